/// The order exports Sparrow reads, told apart by their header.
public enum OrderExport: String, Sendable, Hashable, CaseIterable {
    /// Taobao/Tmall's seller-centre order report (订单报表): a row per order.
    case taobao
    /// Shopify's orders export: a row per line item, the order's columns on its first row only.
    case shopify
    /// Sparrow's own CSV or JSON Lines: `order_id`, `customer_id`, `phone`, `name`, `nickname`, `created_at`, `paid_at`,
    /// `status`, `amount`, `items` and `categories` (each a list separated by `|`).
    case generic

    /// The export whose header this is, or nil.
    static func detect(header: [String]) -> OrderExport? {
        let names = Set(header)
        if names.contains("订单编号"), names.contains("订单状态") { return .taobao }
        if names.isSuperset(of: ["Name", "Financial Status", "Lineitem name"]) { return .shopify }
        if names.contains("order_id") { return .generic }
        return nil
    }

    /// The header's column for each field of an order, by the names this export gives them, in order of preference.
    func columns(_ header: [String]) -> OrderColumns {
        func index(_ names: String...) -> Int? {
            names.lazy.compactMap { header.firstIndex(of: $0) }.first
        }
        switch self {
        case .taobao:
            return OrderColumns(
                id: index("订单编号"), customer: index("买家会员名"), phone: index("联系手机", "联系电话"),
                name: index("收货人姓名"), nickname: index("买家会员名"), created: index("订单创建时间", "买家下单时间"),
                paid: index("订单付款时间", "买家付款时间"), status: index("订单状态"),
                amount: index("买家实际支付金额", "买家实付金额", "总金额"), items: index("宝贝标题"))
        case .shopify:
            return OrderColumns(
                id: index("Name"), customer: index("Email"), phone: index("Phone", "Billing Phone", "Shipping Phone"),
                name: index("Billing Name", "Shipping Name"), created: index("Created at"), paid: index("Paid at"),
                status: index("Financial Status"), amount: index("Total"), items: index("Lineitem name"),
                cancelled: index("Cancelled at"), fulfillment: index("Fulfillment Status"))
        case .generic:
            return OrderColumns(
                id: index("order_id"), customer: index("customer_id"), phone: index("phone"), name: index("name"),
                nickname: index("nickname"), created: index("created_at"), paid: index("paid_at"),
                status: index("status"),
                amount: index("amount"), items: index("items"), categories: index("categories"))
        }
    }

    /// An order's state from this export's words for it.
    func state(status: String?, paid: Bool, cancelled: Bool, fulfillment: String?) -> OrderState? {
        switch self {
        case .taobao:
            return status.flatMap { Self.taobaoStates[$0] }
        case .shopify:
            if cancelled { return .closed }
            switch status?.lowercased() {
            case "paid", "partially_paid", "partially_refunded":
                return fulfillment?.lowercased() == "fulfilled" ? .shipped : .paid
            case "refunded": return .refunded
            case "voided", "expired": return .closed
            case "pending", "authorized": return .unpaid
            case nil: return paid ? .paid : .unpaid
            default: return nil
            }
        case .generic:
            guard let status else { return paid ? .paid : .unpaid }
            return OrderState(rawValue: status) ?? OrderState(rawValue: status.lowercased())
        }
    }

    /// Taobao's status texts, as its order report writes them.
    private static let taobaoStates: [String: OrderState] = [
        "等待买家付款": .unpaid, "买家已付款，等待卖家发货": .paid, "买家已付款,等待卖家发货": .paid,
        "卖家已发货，等待买家确认": .shipped, "卖家已发货,等待买家确认": .shipped, "买家已签收": .delivered,
        "交易成功": .completed, "交易关闭": .refunded, "交易被淘宝关闭": .closed,
    ]
}

/// Where each field of an order sits in a row of one export.
struct OrderColumns {
    var id: Int?
    var customer: Int?
    var phone: Int?
    var name: Int?
    var nickname: Int? = nil
    var created: Int?
    var paid: Int?
    var status: Int?
    var amount: Int?
    var items: Int?
    var categories: Int? = nil
    var cancelled: Int? = nil
    var fulfillment: Int? = nil

    /// The column of each field, in `OrderField`'s order; nil for a field the export does not have.
    var byField: [Int?] {
        [id, customer, phone, name, nickname, created, paid, status, amount, items, categories, cancelled, fulfillment]
    }
}
