//! `runtime-log`: a console log as the host reads it back: the root
//! task's runtime dump (`paddock audit --runtime`) and its started line.
//! The log comes from a guest whose components may print anything.

use paddock_protocol::started::{ParseError, Started};

/// Parses `data` (as text, invalid UTF-8 replaced, as the host reads a
/// log) as a runtime dump and looks for the started line in it.
pub fn runtime_log(data: &[u8]) {
    let log = String::from_utf8_lossy(data);
    if let Err(message) = paddock::runtime_audit::parse(&log) {
        // Errors about one line name it; the others are about the whole log.
        let whole_log = message.starts_with("no runtime dump")
            || message.starts_with("the runtime dump is cut short");
        assert!(
            whole_log || message.starts_with("line "),
            "error without a line: {message}"
        );
    }
    let _ = Started::find(&log);
    for line in log.lines() {
        started(line);
    }
}

fn started(line: &str) {
    match Started::parse(line) {
        // What parses is what `Display` writes back.
        Ok(s) => assert_eq!(Started::parse(&s.to_string()), Ok(s)),
        Err(ParseError::NotStarted) => {}
        // The place named is inside the (trimmed) line.
        Err(ParseError::Unexpected { at, .. }) => {
            assert!(at <= line.trim().len(), "byte {at} of {line:?}")
        }
    }
}
