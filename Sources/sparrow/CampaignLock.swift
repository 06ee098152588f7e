import Foundation

/// Keeps a campaign to one process at a time: an exclusive `flock` on a file beside the store, held until
/// `release` or the end of the process (the kernel releases it on a crash or `kill -9`). Two processes working
/// one campaign would both send its unanswered messages.
final class CampaignLock {
    private let descriptor: Int32

    /// - Throws: `UsageError` when another process holds the campaign, `RuntimeFailure` when the lock file cannot
    ///   be made.
    init(store: String, campaign: String) throws {
        let path = "\(store).\(campaign).lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RuntimeFailure(
                message: "\(path): cannot create the campaign's lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &holder, holder.count, 0)
            close(descriptor)
            let pid = String(decoding: holder.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw UsageError(
                message:
                    "campaign '\(campaign)' is being run by another process (pid \(pid.isEmpty ? "?" : pid)); wait for it or stop it first"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
    }

    func release() {
        close(descriptor)
    }
}
