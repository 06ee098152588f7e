// The template compiler, and rendering what it accepts with a few variables set and others missing.
import FuzzSupport
import SparrowCore

runFuzzer { input in
    let source = String(decoding: input, as: UTF8.self)
    guard let template = try? MessageTemplate(source) else { return }
    _ = template.render(["name": "王伟", "order": "DD123", "amount": "<b>&\"'"], prefix: "【店】", suffix: "回T退订")
}
