// What each fuzz target checks of one input, shared by the libFuzzer targets (Fuzz/, which reach this folder
// through a link) and by the replay of their corpus in `make test` (SparrowFuzzReplayTests).
import SparrowConfig
import SparrowCore

/// A fuzz input that broke a promise of the code under test.
public struct FuzzFinding: Error, CustomStringConvertible {
    public let description: String
}

/// The fuzz targets, by name: each reads untrusted bytes and throws a finding when the parser does what it must not.
public enum FuzzHarness {
    public static let targets: [String: @Sendable (UnsafeBufferPointer<UInt8>) throws -> Void] = [
        "FuzzRecipients": recipients, "FuzzTemplate": template, "FuzzConfig": configuration, "FuzzPhone": phone,
        "FuzzWebhook": webhook, "FuzzOrders": orders,
    ]

    /// The recipient reader (CSV or JSON Lines, detected), fed the input in two chunks split where the first byte
    /// says, with a small row limit so that over-long rows are exercised too. It reads rows or refuses the whole
    /// file, with nothing else.
    public static func recipients(_ input: UnsafeBufferPointer<UInt8>) throws {
        let bytes = Array(input)
        let split = bytes.first.map { Int($0) % (bytes.count + 1) } ?? 0
        var reader = RecipientReader(maxRowBytes: 256)
        do {
            try reader.consume(bytes[..<split], isFinal: false) { _ in }
            try reader.consume(bytes[split...], isFinal: true) { _ in }
        } catch is InputFileError {
            // a clear refusal of the whole file: fine
        } catch {
            throw FuzzFinding(description: "unexpected error: \(error)")
        }
    }

    /// The order reader (Taobao, Shopify, generic CSV or JSON Lines, detected), fed the input in two chunks split
    /// where the first byte says, with a small row limit. It reads orders or refuses the whole file, with nothing
    /// else; every order it reads has an id and a customer, and a non-negative amount.
    public static func orders(_ input: UnsafeBufferPointer<UInt8>) throws {
        let bytes = Array(input)
        let split = bytes.first.map { Int($0) % (bytes.count + 1) } ?? 0
        var reader = OrderReader(offset: 8 * 3600, maxRowBytes: 256)
        var finding: FuzzFinding?
        let check = { (input: OrderInput) in
            guard case .order(let order) = input else { return }
            if order.id.isEmpty || order.customer.isEmpty || order.amount.minorUnits < 0 {
                finding = FuzzFinding(description: "an order without its id, customer or amount: \(order)")
            }
        }
        do {
            try bytes[..<split].withUnsafeBufferPointer { try reader.consume($0, isFinal: false, emit: check) }
            try bytes[split...].withUnsafeBufferPointer { try reader.consume($0, isFinal: true, emit: check) }
        } catch is InputFileError {
            // a clear refusal of the whole file: fine
        } catch {
            throw FuzzFinding(description: "unexpected error: \(error)")
        }
        if let finding { throw finding }
    }

    /// The template compiler, and rendering what it accepts with a few variables set and others missing.
    public static func template(_ input: UnsafeBufferPointer<UInt8>) throws {
        let source = String(decoding: input, as: UTF8.self)
        guard let template = try? MessageTemplate(source) else { return }
        _ = template.render(["name": "王伟", "order": "DD123", "amount": "<b>&\"'"], prefix: "【店】", suffix: "回T退订")
    }

    /// The configuration loader over arbitrary YAML: it either loads or names a place in the file.
    public static func configuration(_ input: UnsafeBufferPointer<UInt8>) throws {
        let yaml = String(decoding: input, as: UTF8.self)
        do {
            _ = try SparrowConfiguration.parse(yaml: yaml, path: "/fuzz/sparrow.yaml", environment: ["TOKEN": "t"])
        } catch {
            let text = "\(error)"
            guard text.hasPrefix("/fuzz/sparrow.yaml:") else {
                throw FuzzFinding(description: "an error without its place: \(text)")
            }
        }
    }

    /// The phone number parser, with the first byte choosing the default region (none, CN, US or GB). What it
    /// accepts, it accepts again in E.164.
    public static func phone(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        let region = [nil, "CN", "US", "GB"][Int(bytes.first ?? 0) % 4]
        guard case .success(let info) = PhoneNumberParser.parse(utf8: bytes.dropFirst(), defaultRegion: region) else {
            return
        }
        guard case .success = PhoneNumberParser.parse(info.number.e164, defaultRegion: nil) else {
            throw FuzzFinding(
                description: "accepted \(Array(bytes)) as \(info.number.e164), which does not parse again")
        }
    }

    /// The webhook's body parsers: fields from a JSON or form body (and a query string), then a delivery receipt
    /// with the standard mapping and an inbound reply, and the body's receipts as a list (a JSON array, or one at
    /// `results`). Each input is read as a body, and its first half also as a query.
    public static func webhook(_ input: UnsafeBufferPointer<UInt8>) throws {
        let body = Array(input)
        let query = String(decoding: body.prefix(body.count / 2), as: UTF8.self)
        for fields in [try? WebhookFields(body: body), try? WebhookFields(body: body, query: query)] {
            guard let fields else { continue }
            _ = try? DeliveryReceipt(fields, mapping: .standard)
            _ = try? InboundReply(fields, defaultRegion: "CN")
        }
        for mapping in [ReceiptMapping.standard, ReceiptMapping(listPath: "results")] {
            _ = try? DeliveryReceipts(body: body, query: query, mapping: mapping)
        }
    }
}
