// The phone number parser, with the first byte choosing the default region (none, CN, US or GB).
import FuzzSupport
import SparrowCore

runFuzzer { bytes in
    let region = [nil, "CN", "US", "GB"][Int(bytes.first ?? 0) % 4]
    if case .success(let info) = PhoneNumberParser.parse(utf8: bytes.dropFirst(), defaultRegion: region) {
        // What it accepts, it accepts again in E.164.
        guard case .success = PhoneNumberParser.parse(info.number.e164, defaultRegion: nil) else {
            fatalError("accepted \(Array(bytes)) as \(info.number.e164), which does not parse again")
        }
    }
}
