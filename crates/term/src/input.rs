//! Lines of stdin, read on a thread of their own (reading a terminal or a pipe blocks)
//! and handed to the client over a bounded channel, so a fast script waits for the
//! client rather than filling memory.

use tokio::sync::mpsc;

/// One read from stdin.
#[derive(Debug)]
pub enum Input {
    /// A line without its line ending (`\n` or `\r\n`); invalid UTF-8 is replaced.
    Line(String),
    /// End of input: leave once everything sent is answered.
    Eof,
    Failed(std::io::Error),
}

/// Starts the reader thread. It ends at end of input, or once the client stops listening.
pub fn spawn_stdin() -> std::io::Result<mpsc::Receiver<Input>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            use std::io::BufRead;
            let stdin = std::io::stdin();
            let mut reader = stdin.lock();
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let input = match reader.read_until(b'\n', &mut buf) {
                    Ok(0) => Input::Eof,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf);
                        Input::Line(line.trim_end_matches(['\n', '\r']).to_owned())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => Input::Failed(e),
                };
                let last = !matches!(input, Input::Line(_));
                if tx.blocking_send(input).is_err() || last {
                    return;
                }
            }
        })?;
    Ok(rx)
}
