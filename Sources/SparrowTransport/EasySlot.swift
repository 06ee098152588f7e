import SparrowCore
import CCurl
import CCurlShim

/// One reusable curl easy handle and the buffers of the transfer it carries. Confined to the transport's loop
/// thread: it is created, used and destroyed there.
final class EasySlot {
    let easy: UnsafeMutableRawPointer
    /// The request body, copied into memory the slot owns and reuses: `CURLOPT_POSTFIELDS` does not copy it, so it
    /// must stay where it is until the transfer ends.
    private var body = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    /// `Expect:` (no 100-continue round trip for small bodies), then the request's header lines.
    private let headerList: UnsafeMutablePointer<curl_slist>
    private(set) var response: [UInt8] = []
    private(set) var retryAfter: String?
    /// Times libcurl has been about to send this transfer's current request: more than once means it is resending
    /// on a fresh connection because a reused one died without an answer.
    private var requestsStarted = 0
    /// Redirects followed when the current request started: a followed redirect is a new request, not a resend.
    private var redirectsFollowed = 0
    /// Request bytes that left on the died connection, when the resend was refused (`refuseResend`).
    private var refusedAfterSending: Int?
    /// The CA bundle libcurl was built to trust, restored when a gateway without a CA file of its own follows one with.
    private let defaultCAFile: String?
    /// The settings of the previous request, as they stand on the handle.
    private var applied:
        (headers: [String], connection: GatewayConnection, timeout: Duration, method: GatewayRequest.Method)?
    /// The most a gateway may send back; a longer answer fails the transfer instead of growing memory.
    static let maxResponseBytes = 1 << 20

    init() {
        guard let easy = curl_easy_init() else { preconditionFailure("curl_easy_init failed: out of memory") }
        self.easy = easy
        guard let expect = curl_slist_append(nil, "Expect:") else {
            preconditionFailure("curl_slist_append failed: out of memory")
        }
        headerList = expect
        var bundle: UnsafeMutableRawPointer?
        _ = sparrow_easy_getinfo_ptr(easy, CURLINFO_CAINFO, &bundle)
        defaultCAFile = bundle.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
        let this = Unmanaged.passUnretained(self).toOpaque()  // the loop's `slots` array owns every slot
        set(CURLOPT_PRIVATE, this)
        set(CURLOPT_WRITEDATA, this)
        set(CURLOPT_HEADERDATA, this)
        set(CURLOPT_PREREQDATA, this)
        // Without it libcurl may send a POST twice by itself (`refuseResend`): a libcurl before 7.80 cannot run Sparrow.
        check(sparrow_easy_setopt_prereq_callback(easy, EasySlot.refuseResend), CURLOPT_PREREQFUNCTION)
        check(
            sparrow_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION, EasySlot.receiveBody), CURLOPT_WRITEFUNCTION
        )
        check(
            sparrow_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION, EasySlot.receiveHeader),
            CURLOPT_HEADERFUNCTION)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_TCP_NODELAY, 1)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        set(CURLOPT_PROXY, "")  // environment proxies never apply silently
        set(CURLOPT_NOPROXY, "*")
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_HTTPHEADER, UnsafeRawPointer(headerList))
    }

    deinit {
        curl_slist_free_all(headerList)
        curl_easy_cleanup(easy)
        body.deallocate()
    }

    /// Sets the options of `request` on the handle, ready for `curl_multi_add_handle`. Options that are the same as
    /// for the slot's previous request (a gateway's connection settings, its header lines) are left as they are, so
    /// a run of requests to one gateway sets little more than the URL and the body.
    func prepare(_ request: GatewayRequest) {
        response.removeAll(keepingCapacity: true)
        retryAfter = nil
        requestsStarted = 0
        redirectsFollowed = 0
        refusedAfterSending = nil
        setHeaders(request.headers)
        if request.connection != applied?.connection { setConnection(request.connection) }
        if request.timeout != applied?.timeout { set(CURLOPT_TIMEOUT_MS, Int(request.timeout / .milliseconds(1))) }
        set(CURLOPT_URL, request.url)
        switch request.method {
        case .get:
            set(CURLOPT_HTTPGET, 1)
        case .post, .put:
            set(CURLOPT_POST, 1)
            if request.body.count > body.count {
                body.deallocate()
                body = .allocate(byteCount: max(request.body.count, 2 * body.count), alignment: 1)
            }
            request.body.withUnsafeBytes { body.copyMemory(from: $0) }
            check(
                sparrow_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)),
                CURLOPT_POSTFIELDSIZE_LARGE)
            set(CURLOPT_POSTFIELDS, UnsafeRawPointer(body.baseAddress))
        }
        if request.method != applied?.method { set(CURLOPT_CUSTOMREQUEST, request.method == .put ? "PUT" : nil) }
        applied = (request.headers, request.connection, request.timeout, request.method)
    }

    /// Replaces the header lines from the first that differs from the previous request's: a gateway's constant lines
    /// come first in its requests, so a run of requests to one gateway replaces the per-message lines alone.
    private func setHeaders(_ headers: [String]) {
        let previous = applied?.headers ?? []
        let kept = zip(headers, previous).prefix { $0 == $1 }.count
        guard kept < max(headers.count, previous.count) else { return }
        var last = headerList
        for _ in 0..<kept { last = last.pointee.next }
        curl_slist_free_all(last.pointee.next)
        last.pointee.next = nil
        for header in headers[kept...] {
            // Small strings need no heap copy for `withCString`.
            guard header.withCString({ curl_slist_append(last, $0) }) != nil else {
                preconditionFailure("curl_slist_append failed: out of memory")
            }
            last = last.pointee.next!  // the line just appended
        }
    }

    private func setConnection(_ connection: GatewayConnection) {
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(connection.connectTimeout / .milliseconds(1)))
        set(
            CURLOPT_HTTP_VERSION,
            connection.httpVersion == .http2 ? Int(CURL_HTTP_VERSION_2TLS) : Int(CURL_HTTP_VERSION_1_1))
        set(CURLOPT_PIPEWAIT, connection.httpVersion == .http2 ? 1 : 0)
        set(CURLOPT_SSL_VERIFYPEER, connection.verifyTLS ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, connection.verifyTLS ? 2 : 0)
        set(CURLOPT_CAINFO, connection.caFile ?? defaultCAFile)  // nil would drop the system bundle, not restore it
        set(CURLOPT_FOLLOWLOCATION, connection.followRedirects ? 1 : 0)
        // A POST stays a POST, body and all, after a 301 or 302 (libcurl would send a GET); a 303 asks for a GET.
        set(CURLOPT_POSTREDIR, Int(CURL_REDIR_POST_301 | CURL_REDIR_POST_302))
    }

    /// What the finished transfer amounts to, from curl's result code and the handle's information.
    func result(_ code: CURLcode) -> TransferResult {
        if let sent = refusedAfterSending {
            let message = "the connection closed before an answer; the request is not sent again"
            return .failed(TransferFailure(kind: .receive, requestBytesSent: sent, message: message))
        }
        if code == CURLE_OK {
            var status = 0
            _ = sparrow_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            var version = 0
            _ = sparrow_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
            let major = version == Int(CURL_HTTP_VERSION_2_0) ? 2 : version == Int(CURL_HTTP_VERSION_3) ? 3 : 1
            return .answered(HTTPAnswer(status: status, retryAfter: retryAfter, body: response, httpVersion: major))
        }
        var sent = 0
        _ = sparrow_easy_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &sent)
        let message = String(cString: curl_easy_strerror(code))
        return .failed(TransferFailure(kind: Self.kind(of: code), requestBytesSent: sent, message: message))
    }

    static func kind(of code: CURLcode) -> TransferFailure.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .resolve
        case CURLE_COULDNT_CONNECT: .connect
        case CURLE_SSL_CONNECT_ERROR: .tlsHandshake
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM: .tlsVerification
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_SEND_ERROR: .send
        case CURLE_RECV_ERROR: .receive
        case CURLE_GOT_NOTHING: .emptyReply
        case CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY, CURLE_WRITE_ERROR: .protocolError
        case CURLE_ABORTED_BY_CALLBACK: .cancelled
        default: .other(Int32(code.rawValue))
        }
    }

    private func set(_ option: CURLoption, _ value: Int) {
        check(sparrow_easy_setopt_long(easy, option, value), option)
    }

    private func set(_ option: CURLoption, _ value: String?) {
        guard let value else { return check(sparrow_easy_setopt_ptr(easy, option, nil), option) }
        check(value.withCString { sparrow_easy_setopt_ptr(easy, option, $0) }, option)  // curl copies string options
    }

    private func set(_ option: CURLoption, _ value: UnsafeRawPointer?) {
        check(sparrow_easy_setopt_ptr(easy, option, value), option)
    }

    /// Every option Sparrow sets is one this libcurl knows, with a valid value; a refusal (an older libcurl, out of
    /// memory) would leave the handle sending something other than what the gateway's configuration says.
    private func check(_ code: CURLcode, _ option: CURLoption) {
        precondition(
            code == CURLE_OK,
            "curl_easy_setopt(\(option.rawValue)) failed: \(String(cString: curl_easy_strerror(code)))")
    }

    /// libcurl resends a request by itself, up to five times, when a reused connection closes before any answer
    /// byte, POST or not. An SMS submit must not go twice behind the state machine's back: a resend is allowed only
    /// when the first try sent nothing; otherwise the transfer ends as an ambiguous failure for the state machine.
    /// A followed redirect is a request of its own, not a resend (libcurl's byte count then includes the requests
    /// before it, so a resend after a redirect is refused: the safe side).
    private static let refuseResend: curl_prereq_callback = { context, _, _, _, _ in
        let slot = Unmanaged<EasySlot>.fromOpaque(context!).takeUnretainedValue()
        var redirects = 0
        _ = sparrow_easy_getinfo_long(slot.easy, CURLINFO_REDIRECT_COUNT, &redirects)
        if redirects != slot.redirectsFollowed {
            slot.redirectsFollowed = redirects
            slot.requestsStarted = 0
        }
        slot.requestsStarted += 1
        guard slot.requestsStarted > 1 else { return sparrow_prereq_ok() }
        var sent = 0
        _ = sparrow_easy_getinfo_long(slot.easy, CURLINFO_REQUEST_SIZE, &sent)  // still the died try's count
        guard sent > 0 else { return sparrow_prereq_ok() }
        slot.refusedAfterSending = sent
        return sparrow_prereq_abort()
    }

    private static let receiveBody: curl_write_callback = { data, size, count, context in
        let slot = Unmanaged<EasySlot>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        guard slot.response.count + length <= maxResponseBytes else { return 0 }  // fails with CURLE_WRITE_ERROR
        if let data {
            slot.response.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        }
        return length
    }

    private static let receiveHeader: curl_write_callback = { data, size, count, context in
        let length = size * count
        guard let data, length > 12, data[0] == 0x52 || data[0] == 0x72 else { return length }  // R or r first
        let line = UnsafeRawBufferPointer(start: data, count: length)
        let name = Array("retry-after:".utf8)
        guard zip(line, name).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) else { return length }
        let value = line[name.count...].drop { $0 == 0x20 || $0 == 0x09 }.prefix { $0 != 0x0D && $0 != 0x0A }
        let slot = Unmanaged<EasySlot>.fromOpaque(context!).takeUnretainedValue()
        slot.retryAfter = String(decoding: value, as: UTF8.self)
        return length
    }
}

@available(*, unavailable)
extension EasySlot: Sendable {}
