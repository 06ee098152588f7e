import Foundation
public import SparrowCore

extension SparrowConfiguration {
    /// An HTTP SMS gateway: where it is, how it wants messages (its dialect), what it costs, which carriers it
    /// serves, how hard to retry, and how to connect.
    public struct Gateway: Sendable {
        public var name: String
        public var dialect: GatewayDialect
        public var pricePerSegment: Double
        /// Carrier ids served; empty serves all.
        public var carriers: [String]
        /// Gateway to fail over to.
        public var backup: String?
        public var maxInFlight: Int
        public var timeout: Duration
        public var retry: RetryPolicy
        /// How to connect: HTTP version, connect timeout, TLS verification (on unless the configuration says
        /// otherwise, with a warning), a CA file, redirects.
        public var connection: GatewayConnection
        /// How the gateway's delivery receipts read (`POST /dlr/{name}`).
        public var receipts: ReceiptMapping
        public var location: SourceLocation

        public var url: String { dialect.url }

        public var route: GatewayRoute {
            GatewayRoute(name: name, pricePerSegment: pricePerSegment, carriers: carriers)
        }

        /// The gateway as the sender sees it.
        public var endpoint: GatewayEndpoint {
            GatewayEndpoint(
                name: name, dialect: dialect, backup: backup, maxInFlight: maxInFlight, timeout: timeout, retry: retry,
                connection: connection)
        }
    }
}

extension SparrowConfiguration.Gateway {
    static let keys = [
        "name", "url", "format", "method", "price_per_segment", "carriers", "backup", "max_in_flight",
        "connect_timeout", "timeout", "fields", "headers", "auth", "sender", "values", "idempotency", "response",
        "split", "udh_field", "retry", "http_version", "tls", "follow_redirects", "receipts", "batch", "type",
        "region", "sdk_app_id", "sign_name", "secret_id", "secret_key", "access_key_id", "access_key_secret", "api",
    ]

    /// The keys of a generic gateway that a provider's gateway does not take: its API fixes them.
    static let genericKeys = [
        "format", "method", "fields", "headers", "auth", "sender", "values", "idempotency", "response", "split",
        "udh_field", "batch",
    ]

    /// The keys of a provider's gateway that a generic one does not take.
    static let providerKeys = [
        "region", "sdk_app_id", "sign_name", "secret_id", "secret_key", "access_key_id", "access_key_secret", "api",
    ]

    static func readAll(_ node: YAMLNode, carriers: [Carrier], folder: String) throws -> [Self] {
        let items = try node.list()
        guard !items.isEmpty else { throw node.error(.invalidValue, "at least one gateway is needed") }
        var gateways: [Self] = []
        var backups: [(String, YAMLNode)] = []
        for item in items {
            let map = try withInclude(item.mapping(keys: keys + ["include"]), folder: folder)
            let nameNode = try map.required("name")
            let name = try nameNode.string()
            guard !gateways.contains(where: { $0.name == name }) else {
                throw nameNode.error(.invalidValue, "duplicate gateway name '\(name)'")
            }
            if let backup = map["backup"] { backups.append((name, backup)) }
            gateways.append(try read(name: name, map, item: item, carriers: carriers, folder: folder))
        }
        for (name, backup) in backups {
            let target = try backup.string()
            guard target != name, gateways.contains(where: { $0.name == target }) else {
                throw backup.error(.invalidValue, "backup '\(target)' is not another gateway of this file")
            }
        }
        let chain = Dictionary(
            uniqueKeysWithValues: gateways.compactMap { gateway in gateway.backup.map { (gateway.name, $0) } })
        if let cycle = GatewayRouter.cycle(in: chain), let first = backups.first(where: { $0.0 == cycle[0] }) {
            throw first.1.error(.invalidValue, "backups form a cycle: \(cycle.joined(separator: " → "))")
        }
        return gateways
    }

    /// A gateway entry may start from a dialect file (`include: gateways/generic-json.yaml`) and override its keys.
    private static func withInclude(_ map: YAMLMapping, folder: String) throws -> YAMLMapping {
        guard let include = map["include"] else { return map }
        let path = SparrowConfiguration.resolve(try include.string(), against: folder)
        let base: YAMLMapping
        do {
            base = try YAMLFile.read(path, environment: include.environment).mapping(keys: keys)
        } catch let error as ConfigError where error.code == .unreadable && error.location.file == path {
            throw include.error(.unreadable, "cannot read gateway file '\(path)'")
        }
        var entries = base.entries
        for (key, value) in map.entries where key != "include" { entries[key] = value }
        return YAMLMapping(entries: entries, owner: map.owner)
    }

    private static func read(
        name: String, _ map: YAMLMapping, item: YAMLNode, carriers: [Carrier], folder: String
    ) throws -> Self {
        var served: [String] = []
        for carrier in try map["carriers"]?.list() ?? [] {
            let id = try carrier.string()
            guard carriers.contains(where: { $0.id == id }) else {
                let hint = Suggestion.closest(to: id, in: carriers.map(\.id)).map { " (did you mean '\($0)'?)" }
                throw carrier.error(.invalidValue, "unknown carrier '\(id)'\(hint ?? "")")
            }
            served.append(id)
        }

        let dialect: GatewayDialect
        var receipts = ReceiptMapping.standard
        if let typeNode = map["type"] {
            switch try typeNode.oneOf(ProviderType.self) {
            case .tencent:
                dialect = try readTencent(map)
                receipts = .tencent
            case .aliyun:
                dialect = try readAliyun(map)
                receipts = .aliyun
            }
        } else {
            dialect = try readDialect(map)
        }
        var retry = try readRetry(map["retry"])
        retry.honoursIdempotencyKey = dialect.idempotency.honoured
        let tls = try map["tls"]?.mapping(keys: ["verify", "ca_file"])
        return Self(
            name: name, dialect: dialect, pricePerSegment: try map["price_per_segment"]?.positiveDouble() ?? 0,
            carriers: served, backup: try map["backup"]?.string(),
            maxInFlight: try map["max_in_flight"]?.int(in: 1...4096) ?? 16,
            timeout: try map["timeout"]?.duration() ?? .seconds(10), retry: retry,
            connection: GatewayConnection(
                httpVersion: try map["http_version"]?.oneOf(GatewayConnection.HTTPVersion.self) ?? .http1_1,
                connectTimeout: try map["connect_timeout"]?.duration() ?? .seconds(3),
                verifyTLS: try tls?["verify"]?.bool() ?? true,
                caFile: try tls?["ca_file"].map { SparrowConfiguration.resolve(try $0.string(), against: folder) },
                followRedirects: try map["follow_redirects"]?.bool() ?? false),
            receipts: try map["receipts"].map(readReceiptMapping) ?? receipts, location: item.location)
    }

    private enum ProviderType: String, CaseIterable { case tencent, aliyun }

    /// A gateway described by its keys: where each field goes, how it authenticates, how its answers read.
    private static func readDialect(_ map: YAMLMapping) throws -> GatewayDialect {
        if let key = providerKeys.first(where: { map[$0] != nil }) {
            throw map[key]!.error(.invalidValue, "'\(key)' belongs to a provider's gateway: give its 'type'")
        }
        let url = try readURL(map.required("url"))
        let sender = try map["sender"]?.string()
        var values: [String: String] = [:]
        for (key, value) in try map["values"]?.openMapping() ?? [] { values[key] = try value.string() }
        let splitting: GatewayDialect.Splitting =
            switch try map["split"]?.oneOf(SplitMode.self) ?? .gateway {
            case .gateway: .byGateway
            case .sparrow: .bySparrow(udhField: try map["udh_field"]?.string() ?? "udh")
            }
        var known = Set(values.keys).union(["to", "text", "id"])
        if sender != nil { known.insert("sender") }
        if case .bySparrow = splitting { known.insert("udh") }

        let format = try map.required("format").oneOf(GatewayDialect.BodyFormat.self)
        let batch = try map["batch"].map { try readBatch($0, format: format, known: known) }
        if let batchNode = map["batch"], case .bySparrow = splitting {
            throw batchNode.error(.invalidValue, "a gateway that splits with 'split: sparrow' sends no batches")
        }
        var fields: [(name: String, template: MessageTemplate)] = []
        if let fieldsNode = map["fields"] {
            // With a batch of one text, only the list names each message: the other fields are the batch's.
            let shared = batch.map { $0.grouping != .anyText } ?? false
            for (field, templateNode) in try fieldsNode.openMapping() where !(shared && field == batch?.list) {
                let allowed = shared ? known.subtracting(["to", "id"]) : known
                fields.append((field, try template(templateNode, field: field, known: allowed)))
            }
        } else {
            fields = try GatewayDialect.defaultFields(sender: sender != nil)
            if case .bySparrow(let udhField) = splitting { fields.append((udhField, try MessageTemplate("{{udh}}"))) }
            if let batch, batch.grouping != .anyText { fields.removeAll { $0.name == "id" || $0.name == "to" } }
        }

        var headers: [String] = []
        for (header, value) in try map["headers"]?.openMapping() ?? [] {
            let text = try value.string()
            guard !header.contains(":"), !(header + text).contains(where: \.isNewline) else {
                throw value.error(.invalidValue, "a header name has no ':' and neither part a line break")
            }
            headers.append("\(header): \(text)")
        }

        let idempotency = try readIdempotency(map["idempotency"])
        if let batchNode = map["batch"], idempotency.honoured {
            throw batchNode.error(
                .invalidValue,
                "a gateway that takes batches cannot honour idempotency keys: after a crash the same messages may not "
                    + "be grouped the same way (remove 'idempotency: { honoured: true }')")
        }
        return GatewayDialect(
            url: url, method: try map["method"]?.oneOf(GatewayDialect.Method.self) ?? .POST, format: format,
            fields: fields, headers: headers, auth: try readAuth(map["auth"]), idempotency: idempotency,
            reading: try readResponse(map["response"]), splitting: splitting, sender: sender,
            values: TemplateValues(values), batch: batch)

    }

    /// The keys of a provider's gateway that are not `type`'s: refused, each where it is written.
    private static func refuseForeignKeys(_ map: YAMLMapping, type: String, own: [String]) throws {
        if let key = genericKeys.first(where: { map[$0] != nil }) {
            throw map[key]!.error(
                .invalidValue, "'\(key)' does not apply to a gateway of type \(type): its API fixes it")
        }
        if let key = providerKeys.first(where: { !own.contains($0) && map[$0] != nil }) {
            throw map[key]!.error(.invalidValue, "'\(key)' does not apply to a gateway of type \(type)")
        }
    }

    /// Alibaba Cloud SMS: `{ type: aliyun, sign_name, access_key_id, access_key_secret, region, api }`, at
    /// `https://dysmsapi.aliyuncs.com/` unless `url` says otherwise.
    private static func readAliyun(_ map: YAMLMapping) throws -> GatewayDialect {
        try refuseForeignKeys(
            map, type: "aliyun", own: ["region", "sign_name", "access_key_id", "access_key_secret", "api"])
        let url = try map["url"].map(readURL) ?? "https://dysmsapi.aliyuncs.com/"
        let aliyun = AlibabaSMS(
            endpoint: url, region: try map["region"]?.string() ?? "cn-hangzhou",
            signName: try map.required("sign_name").string(),
            accessKeyID: try map.required("access_key_id").string(),
            accessKeySecret: Secret(try map.required("access_key_secret").string()),
            api: try map["api"]?.oneOf(AlibabaSMS.API.self) ?? .sendSms)
        return GatewayDialect(
            url: url, format: .form, fields: [], idempotency: .init(header: nil),
            batch: .init(
                max: aliyun.api.maxNumbers, list: "PhoneNumbers",
                grouping: aliyun.api == .sendSms ? .sameText(separator: ",") : .anyText),
            provider: .aliyun(aliyun))
    }

    /// Tencent Cloud SMS: `{ type: tencent, region, sdk_app_id, sign_name, secret_id, secret_key }`, at
    /// `https://sms.tencentcloudapi.com` unless `url` says otherwise.
    private static func readTencent(_ map: YAMLMapping) throws -> GatewayDialect {
        try refuseForeignKeys(
            map, type: "tencent", own: ["region", "sdk_app_id", "sign_name", "secret_id", "secret_key"])
        let url = try map["url"].map(readURL) ?? "https://sms.tencentcloudapi.com"
        let tencent = TencentSMS(
            endpoint: url, region: try map.required("region").string(),
            sdkAppID: try map.required("sdk_app_id").string(), signName: try map.required("sign_name").string(),
            secretID: try map.required("secret_id").string(), secretKey: Secret(try map.required("secret_key").string())
        )
        return GatewayDialect(
            url: url, format: .json, fields: [], idempotency: .init(header: nil),
            batch: .init(max: TencentSMS.maxNumbers, list: "PhoneNumberSet"), provider: .tencent(tencent))
    }

    private static func readURL(_ node: YAMLNode) throws -> String {
        let url = try node.string()
        guard let parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()),
            parsed.host?.isEmpty == false
        else { throw node.error(.invalidValue, "expected an http:// or https:// URL") }
        return url
    }

    private enum SplitMode: String, CaseIterable { case gateway, sparrow }

    /// A field's template, checked to use only variables a request has.
    private static func template(_ node: YAMLNode, field: String, known: Set<String>) throws -> MessageTemplate {
        let template: MessageTemplate
        do {
            template = try MessageTemplate(try node.string())
        } catch let error as TemplateError {
            throw node.error(.invalidValue, "field '\(field)': \(error.message)")
        }
        let sample = TemplateValues(Dictionary(uniqueKeysWithValues: known.map { ($0, "x") }))
        if case .failure(let missing) = template.render(sample) {
            let names = known.sorted().joined(separator: ", ")
            throw node.error(.invalidValue, "field '\(field)' uses '\(missing.name)'; a request has \(names)")
        }
        return template
    }

    private static func readAuth(_ node: YAMLNode?) throws -> GatewayDialect.Auth {
        guard let node else { return .none }
        let map = try node.mapping(keys: [
            "type", "username", "password", "token", "secret", "header", "timestamp_header",
        ])
        switch try map.required("type").oneOf(AuthType.self) {
        case .basic:
            return .basic(
                username: try map.required("username").string(), password: try map.required("password").string())
        case .bearer:
            return .bearer(token: try map.required("token").string())
        case .hmac:
            return .hmac(
                secret: try map.required("secret").string(), header: try map["header"]?.string() ?? "X-Signature",
                timestampHeader: try map["timestamp_header"]?.string() ?? "X-Timestamp")
        }
    }

    private enum AuthType: String, CaseIterable { case basic, bearer, hmac }

    private static func readIdempotency(_ node: YAMLNode?) throws -> GatewayDialect.Idempotency {
        guard let node else { return GatewayDialect.Idempotency() }
        let map = try node.mapping(keys: ["header", "field", "honoured"])
        return GatewayDialect.Idempotency(
            header: try map.entries["header"].map { $0.isNull ? nil : try $0.string() } ?? "Idempotency-Key",
            field: try map["field"]?.string(), honoured: try map["honoured"]?.bool() ?? false)
    }

    /// `{ max, list, group: text | any, separator, recipient: { field: template, … }, linger, results: { path,
    /// number, success_field, message_id, error } }`.
    private static func readBatch(
        _ node: YAMLNode, format: GatewayDialect.BodyFormat, known: Set<String>
    ) throws -> GatewayDialect.Batch {
        let map = try node.mapping(keys: ["max", "list", "group", "separator", "recipient", "linger", "results"])
        let listNode = try map.required("list")
        let list = try fieldName(listNode)
        if format != .json, list.contains(".") {
            throw listNode.error(.invalidValue, "only a JSON body nests its list ('\(list)')")
        }
        var batch = GatewayDialect.Batch(max: try map.required("max").int(in: 1...10_000), list: list)
        switch try map["group"]?.oneOf(BatchGrouping.self) ?? .text {
        case .text:
            batch.grouping = .sameText(separator: try map["separator"]?.string() ?? ",")
        case .any:
            guard format == .json else {
                throw map["group"]!.error(.invalidValue, "'group: any' needs 'format: json': each message is an object")
            }
            batch.grouping = .anyText
        }
        if let recipientNode = map["recipient"] {
            guard format == .json, batch.grouping != .anyText else {
                throw recipientNode.error(.invalidValue, "'recipient' objects need 'format: json' and 'group: text'")
            }
            for (field, templateNode) in try recipientNode.openMapping() {
                batch.recipient.append((field, try template(templateNode, field: field, known: known)))
            }
        }
        if let linger = map["linger"] { batch.linger = try linger.duration() }
        if let resultsNode = map["results"] {
            let results = try resultsNode.mapping(keys: ["path", "number", "success_field", "message_id", "error"])
            batch.results = GatewayDialect.Results(
                path: try fieldName(results.required("path")), number: try results["number"].map(fieldName),
                reading: try readReading(results))
        }
        return batch
    }

    private enum BatchGrouping: String, CaseIterable { case text, any }

    private static func readResponse(_ node: YAMLNode?) throws -> GatewayDialect.Reading {
        guard let node else { return GatewayDialect.Reading() }
        let map = try node.mapping(keys: ["success_status", "success_field", "message_id", "error"])
        return try readReading(map)
    }

    /// A reading with the keys `map` has, the standard one's elsewhere.
    private static func readReading(_ map: YAMLMapping) throws -> GatewayDialect.Reading {
        var reading = GatewayDialect.Reading()
        if let statusNode = map["success_status"] {
            let text = try statusNode.string()
            let bounds = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                (100...599).contains(low), low <= high, high <= 599
            else { throw statusNode.error(.invalidValue, "expected a status or a range, e.g. 200 or 200-299") }
            reading.successStatuses = low...high
        }
        if let fieldNode = map["success_field"] {
            let field = try fieldNode.mapping(keys: ["path", "equals"])
            reading.successField = (try field.required("path").string(), try field.required("equals").string())
        }
        if let path = map["message_id"] { reading.messageIDPath = try path.string() }
        if let path = map["error"] { reading.errorPath = try path.string() }
        return reading
    }

    /// `{ list, id, recipient, status, error, states: { accepted: [...], delivered: [...], undelivered: [...],
    /// expired: [...] }, answer }`: field names (or lists of them, tried in order) replace the standard ones; status
    /// words are added to the standard words; `recipient` names the number in receipts that name a batch, not a
    /// message; `list` is the dotted path of the array of receipts in a JSON object body, and `answer` the body of the
    /// 200 that acknowledges them.
    private static func readReceiptMapping(_ node: YAMLNode?) throws -> ReceiptMapping {
        guard let node else { return .standard }
        let map = try node.mapping(keys: ["list", "id", "recipient", "status", "error", "states", "answer"])
        var words: [ReceiptStatus: [String]] = [:]
        if let statesNode = map["states"] {
            let states = try statesNode.mapping(keys: ReceiptStatus.allCases.map(\.rawValue))
            var seen: [String: ReceiptStatus] = [:]
            for status in ReceiptStatus.allCases {
                guard let list = states[status.rawValue] else { continue }
                for wordNode in try list.isSequence ? list.list() : [list] {
                    let word = try wordNode.string()
                    let folded = ReceiptMapping.folded(word)
                    guard !folded.isEmpty else { throw wordNode.error(.invalidValue, "a status word cannot be empty") }
                    if let other = seen[folded] {
                        throw wordNode.error(.invalidValue, "'\(word)' is already listed under \(other.rawValue)")
                    }
                    seen[folded] = status
                    words[status, default: []].append(word)
                }
            }
        }
        let standard = ReceiptMapping.standard
        return ReceiptMapping(
            idFields: try map["id"].map(fieldNames) ?? standard.idFields,
            statusFields: try map["status"].map(fieldNames) ?? standard.statusFields,
            errorFields: try map["error"].map(fieldNames) ?? standard.errorFields,
            recipientFields: try map["recipient"].map(fieldNames),
            listPath: try map["list"].map(fieldName), answer: try map["answer"].map(answer), words: words)
    }

    /// The body the webhook answers a gateway's receipts with: text of its own, at most 1 KiB.
    private static func answer(_ node: YAMLNode) throws -> String {
        let text = try node.string()
        guard (1...1024).contains(text.utf8.count) else {
            throw node.error(.invalidValue, "expected the answer's body, from 1 byte to 1 KiB")
        }
        return text
    }

    /// One field name (a dotted path in JSON bodies).
    private static func fieldName(_ node: YAMLNode) throws -> String {
        let name = try node.string()
        guard !name.isEmpty else { throw node.error(.invalidValue, "expected a field name") }
        return name
    }

    /// A field name (a dotted path in JSON bodies), or a list of them.
    private static func fieldNames(_ node: YAMLNode) throws -> [String] {
        let names = try node.isSequence ? node.list().map(fieldName) : [fieldName(node)]
        guard !names.isEmpty else { throw node.error(.invalidValue, "expected a field name or a list of them") }
        return names
    }

    private static func readRetry(_ node: YAMLNode?) throws -> RetryPolicy {
        guard let node else { return RetryPolicy() }
        let map = try node.mapping(keys: ["max_attempts", "base_delay", "max_delay", "max_retry_after"])
        var policy = RetryPolicy()
        if let attempts = map["max_attempts"] { policy.maxAttempts = try attempts.int(in: 1...100) }
        if let delay = map["base_delay"] {
            policy.baseDelay = try delay.duration()
            guard policy.baseDelay > .zero else { throw delay.error(.invalidValue, "base_delay must be longer than 0") }
        }
        if let delay = map["max_delay"] { policy.maxDelay = try delay.duration() }
        if policy.maxDelay < policy.baseDelay {
            if let delay = map["max_delay"] {
                throw delay.error(.invalidValue, "max_delay must be at least base_delay")
            }
            throw map["base_delay"]!.error(
                .invalidValue, "base_delay must be at most max_delay (\(RetryPolicy().maxDelay) unless set)")
        }
        if let delay = map["max_retry_after"] { policy.maxRetryAfter = try delay.duration() }
        return policy
    }
}
