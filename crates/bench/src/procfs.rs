//! What the generator reads of a server process from /proc: memory and CPU time.

/// Resident memory of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) a process has used, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis don't.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); here 12 and 13 after the name.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Clock ticks per second in /proc's CPU times: USER_HZ, fixed at 100 by Linux's ABI.
pub const TICKS_PER_SECOND: f64 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu_time_to_read() {
        let me = std::process::id();
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        // Spin until a tick of CPU time shows (a busy machine may give this thread little
        // of it), or give up after 10 s of wall time.
        let spin = std::time::Instant::now();
        while cpu_ticks(me).is_none_or(|t| t == 0)
            && spin.elapsed() < std::time::Duration::from_secs(10)
        {
            for i in 0..100_000u64 {
                std::hint::black_box(i.wrapping_mul(i));
            }
        }
        assert!(cpu_ticks(me).is_some_and(|t| t > 0));
    }
}
