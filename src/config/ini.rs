//! Where things are in an AWS config or credentials file, line by line: which lines are
//! section headers, comments or `key = value`, and which lines belong to which section. This
//! is not a parser (the AWS SDK's own parser reads the values: see [`super::Profiles`]); it is
//! the one scanner that both the messages (`file:line` of a section or key) and the edits
//! (`profile add`, `keys import`) use, so that they agree on what a section is.

use std::ops::Range;

/// The inside of a `[...]` header line, trimmed, if `line` is one as the SDK's parser reads it:
/// a comment (`#` or `;`, anywhere) ends the line, and what is left must be `[` … `]`, so
/// `[profile a] x` is no header (the SDK refuses it, and `syntax` sets it aside). A byte-order
/// mark before it is tolerated, as the loader tolerates it.
pub fn header(line: &str) -> Option<&str> {
    let line = line.trim_start_matches('\u{feff}');
    let line = line.split(['#', ';']).next().unwrap_or_default().trim();
    line.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// Whether a line says nothing: blank, or a `#` or `;` comment.
pub fn is_comment_or_blank(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';')
}

/// The key of a `key = value` line, trimmed, as written (case kept).
pub fn key_of(line: &str) -> Option<&str> {
    line.split_once('=').map(|(key, _)| key.trim())
}

/// Whether a config file's section header names profile `name`: `[profile name]`, or
/// `[default]` for `default`.
pub fn is_profile(section: &str, name: &str) -> bool {
    let mut words = section.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("profile"), Some(n), None) => n == name,
        (Some(n), None, None) => n == name && name == "default",
        _ => false,
    }
}

/// The byte ranges of `bytes`' lines, each with its line ending.
pub fn lines_of(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            lines.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        lines.push(start..bytes.len());
    }
    lines
}

/// One section, by line index (0-based) into the file's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The inside of its header, as [`header`] returns it.
    pub header: String,
    /// The header's line.
    pub start: usize,
    /// The line after its last line: the next header, or the end of the file.
    pub end: usize,
    /// Its last line that says something (the header itself when nothing does): blank lines
    /// and comments after it introduce the next section.
    pub last_content: usize,
}

/// Every section of a file whose lines are `lines`, in order.
pub fn sections<S: AsRef<str>>(lines: &[S]) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line = line.as_ref();
        if let Some(inner) = header(line) {
            sections.push(Section {
                header: inner.to_owned(),
                start: index,
                end: index + 1,
                last_content: index,
            });
        } else if let Some(section) = sections.last_mut() {
            section.end = index + 1;
            if !is_comment_or_blank(line) {
                section.last_content = index;
            }
        }
    }
    sections
}

/// The text of each line of `bytes` (lossy for a stray non-UTF-8 byte), for [`sections`].
pub fn texts(bytes: &[u8], lines: &[Range<usize>]) -> Vec<String> {
    lines
        .iter()
        .map(|r| String::from_utf8_lossy(&bytes[r.clone()]).into_owned())
        .collect()
}

/// The section around 1-based `line` of `text` commented out, line for line, so that one
/// malformed section does not make the parser refuse the whole file: every other profile is
/// still read, and every line keeps its number. Returns the new text and the inside of the
/// section's header (`None` for a line before any header, which alone is commented out). A
/// header missing its `]` still names its section, and ends at the next good header.
pub fn quarantine(text: &str, line: usize) -> (String, Option<String>) {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = line.saturating_sub(1).min(lines.len().saturating_sub(1));
    let opens = |l: &str| {
        l.trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('[')
    };
    let start = (0..=at).rev().find(|&i| opens(lines[i]));
    let (range, name) = match start {
        Some(start) => {
            let end = (at + 1..lines.len())
                .find(|&i| header(lines[i]).is_some())
                .unwrap_or(lines.len());
            let inner = lines[start]
                .trim_start_matches('\u{feff}')
                .trim()
                .trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or(inner).trim();
            (start..end, Some(inner.to_owned()))
        }
        None => (at..at + 1, None),
    };
    let mut out = String::with_capacity(text.len() + range.len() * 2);
    for (i, l) in lines.iter().enumerate() {
        if range.contains(&i) && !is_comment_or_blank(l) {
            out.push_str("# ");
        }
        out.push_str(l);
    }
    (out, name)
}

/// Forms the AWS CLI reads (through Python's `configparser`) that the SDK's parser refuses,
/// rewritten to the form both read, with the same meaning: `key: value` is `key = value`, and
/// the first key of a section written indented is that key. Every line keeps its number, so
/// messages still name the line as written. Each rewrite is reported once per file, with the
/// line of its first occurrence.
pub fn normalize(path: &std::path::Path, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut colon_at = None;
    let mut indented_at = None;
    // After a header, until its first key: an indented line there starts no continuation.
    let mut awaiting_first_key = false;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        if header(line).is_some() {
            awaiting_first_key = true;
            out.push_str(line);
            continue;
        }
        if is_comment_or_blank(line) {
            out.push_str(line);
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        let line = if indented && awaiting_first_key {
            indented_at.get_or_insert(number);
            line.trim_start()
        } else if indented {
            // A continuation of the value above: left as it is.
            out.push_str(line);
            continue;
        } else {
            line
        };
        awaiting_first_key = false;
        match colon_key(line) {
            Some(colon) => {
                colon_at.get_or_insert(number);
                out.push_str(&line[..colon]);
                out.push_str(" =");
                out.push_str(&line[colon + 1..]);
            }
            None => out.push_str(line),
        }
    }
    if let Some(line) = colon_at {
        tracing::warn!(
            "`{}` line {line}: `key: value` is read as `key = value`, as the AWS CLI reads it; write `=` so that every AWS SDK reads it too",
            path.display()
        );
    }
    if let Some(line) = indented_at {
        tracing::warn!(
            "`{}` line {line}: the first key of a section is indented; it is read as that key, as the AWS CLI reads it, but other tools take an indented line for part of the value above: remove the indent",
            path.display()
        );
    }
    out
}

/// Where the `:` of a `key: value` line is: a plain key before it, and no `=` before it (a
/// value may hold colons: `role_arn = arn:aws:...`).
fn colon_key(line: &str) -> Option<usize> {
    let colon = line.find(':')?;
    if line.find('=').is_some_and(|eq| eq < colon) {
        return None;
    }
    let key = line[..colon].trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)))
    .then_some(colon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_comments_out_one_section_and_keeps_line_numbers() {
        let text =
            "[profile a]\nregion = x\n\n[profile b\nbroken line\n  more\n[profile c]\nk = v\n";
        let (out, name) = quarantine(text, 5);
        assert_eq!(name.as_deref(), Some("profile b"));
        assert_eq!(
            out,
            "[profile a]\nregion = x\n\n# [profile b\n# broken line\n#   more\n[profile c]\nk = v\n"
        );
        let (out, name) = quarantine("stray\n[default]\nk = v", 1);
        assert_eq!((out.as_str(), name), ("# stray\n[default]\nk = v", None));
    }

    #[test]
    fn sections_end_at_their_last_line_that_says_something() {
        let text = "# top\n[default]\nregion = x\n\n# about b\n[profile b]\nk = v\n";
        let lines: Vec<&str> = text.lines().collect();
        let found = sections(&lines);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (
                found[0].header.as_str(),
                found[0].start,
                found[0].end,
                found[0].last_content
            ),
            ("default", 1, 5, 2)
        );
        assert_eq!(
            (
                found[1].header.as_str(),
                found[1].start,
                found[1].end,
                found[1].last_content
            ),
            ("profile b", 5, 7, 6)
        );
        assert!(is_profile(&found[1].header, "b") && is_profile("default", "default"));
        assert_eq!(header("\u{feff}[ profile  x ]"), Some("profile  x"));
        // As the SDK reads a header: a comment ends it, anything else after `]` is no header.
        assert_eq!(header("[profile r] # mine"), Some("profile r"));
        assert_eq!(header("[profile r];mine\r\n"), Some("profile r"));
        assert_eq!(header("[profile r] x"), None);
        assert_eq!(header("[profile r"), None);
        assert_eq!(
            key_of(" aws_access_key_id = AKIA"),
            Some("aws_access_key_id")
        );
    }
}
