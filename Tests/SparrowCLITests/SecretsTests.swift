import Foundation
import SparrowGatewaySim
import SparrowTestSupport
import Testing

/// Credentials in a configuration never come out again: not on stdout or stderr of `plan`, `send` or `report`
/// (in every format), not in the rejects files, not in the store; and `send`'s logs at `info` name no recipient and
/// no message text either.
@Suite(.timeLimit(.minutes(2))) struct SecretsTests {
    static let secrets = ["tok-Secret-7f3a", "pw-Secret-91c2", "dlr-Secret-4e8d", "hmac-Secret-b6d0"]

    @Test func noCommandPrintsAConfiguredSecret() async throws {
        let simulator = GatewaySimulator(auth: .bearer(token: Self.secrets[0]))
        let outputs = try await withSimulator(simulator) { base in
            let folder = try SparrowProcess.temporaryFolder()
            // `other` sends a password the simulator refuses: its messages fail with the gateway's reason.
            try """
            store: ./state.sqlite
            quiet_hours: off
            carriers:
              - { id: mobile, country_code: 86, prefixes: [138] }
              - { id: unicom, country_code: 86, prefixes: [186] }
            gateways:
              - name: primary
                url: \(base)/v1/sms
                format: json
                auth: { type: bearer, token: \(Self.secrets[0]) }
                carriers: [mobile]
              - name: other
                url: \(base.replacingOccurrences(of: "http://", with: "http://sparrow:\(Self.secrets[1])@"))/v1/sms
                format: form
                auth: { type: basic, username: sparrow, password: \(Self.secrets[1]) }
                carriers: [unicom]
                tls: { verify: false }
            receipts:
              listen: 127.0.0.1:0
              token: \(Self.secrets[2])
              hmac_secret: \(Self.secrets[3])
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients = folder.appendingPathComponent("recipients.csv")
            try "phone,name\n13800138000,王伟\n18600186000,李娜\nnot-a-number,张敏\n"
                .write(to: recipients, atomically: true, encoding: .utf8)
            let text = ["--text", "{{name}}您好"]
            var outputs: [String: String] = [:]
            var commands: [(String, [String])] = [
                ("plan", ["plan", "-c", "sparrow.yaml", "--rejects", "plan-rejects.jsonl"] + text),
                (
                    "send",
                    ["send", "-c", "sparrow.yaml", "--campaign", "s1", "--rejects", "send-rejects.jsonl"] + text
                        + ["--log-level", "info", "--log-format", "json"]
                ),
            ]
            for format in ["table", "json", "csv", "html"] {
                commands.append(
                    ("report-\(format)", ["report", "-c", "sparrow.yaml", "--campaign", "s1", "--format", format]))
            }
            for (name, arguments) in commands {
                let (stdout, stderr) = (
                    folder.appendingPathComponent("\(name).out"), folder.appendingPathComponent("\(name).err")
                )
                let process = try SparrowProcess.start(
                    arguments, stdin: recipients, in: folder, stdout: stdout, stderr: stderr)
                let ending = await process.exited()
                #expect(ending.reason == .exit && ending.status <= 1, "\(name) exited \(ending.status)")
                outputs[name + " stdout"] = try String(contentsOf: stdout, encoding: .utf8)
                outputs[name + " stderr"] = try String(contentsOf: stderr, encoding: .utf8)
            }
            for file in ["plan-rejects.jsonl", "send-rejects.jsonl", "state.sqlite", "state.sqlite-wal"] {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path) else {
                    continue
                }
                outputs[file] = String(decoding: data, as: UTF8.self)
            }
            outputs["store"] = (outputs["state.sqlite"] ?? "") + (outputs["state.sqlite-wal"] ?? "")
            return outputs
        }
        #expect(simulator.stats.messages == 1)  // primary's message went; other's was refused …
        #expect(outputs["report-csv stdout", default: ""].contains("s1,gateway,other,1,0,0,0,0,0,0,0,1,0,0,1,"))
        #expect(outputs["store", default: ""].contains("HTTP 401"))  // … with the gateway's reason kept
        #expect(outputs["plan stderr", default: ""].contains("warning: TLS verification is off for gateway 'other'"))
        #expect(outputs["send stderr", default: ""].contains("warning: TLS verification is off for gateway 'other'"))
        for (name, output) in outputs {
            for secret in Self.secrets {
                #expect(!output.contains(secret), "\(name) shows \(secret)")
            }
        }
        // The logs at info and above name the campaign and its gateways, never a recipient or a message.
        let logs = outputs["send stderr", default: ""].split(separator: "\n").filter { $0.hasPrefix(#"{"time":"#) }
        #expect(
            logs.contains {
                $0.contains(#""message":"the campaign's run began""#) && $0.contains(#""campaign.id":"s1""#)
            })
        for line in logs {
            #expect(
                line.contains(#""level":"info""#) || line.contains(#""level":"notice""#)
                    || line.contains(#""level":"warning""#))
            for personal in ["13800138000", "18600186000", "王伟", "李娜", "您好"] {
                #expect(!line.contains(personal), "a log line shows \(personal): \(line)")
            }
        }
    }
}
