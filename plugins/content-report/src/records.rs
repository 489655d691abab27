//! The lines stored in the `kv` shards: tab separated fields, with `\`, tab, newline and
//! carriage return escaped as `\\`, `\t`, `\n`, `\r`.

/// A page or blog post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    pub id: i64,
    /// "page" or "blogpost".
    pub kind: String,
    pub version: i32,
    /// RFC 3339.
    pub last_modified: String,
    pub parent: Option<i64>,
    pub space: String,
    pub title: String,
    pub url: String,
}

/// An attachment of a page or blog post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttRecord {
    pub container: i64,
    pub id: i64,
    pub size: u64,
    /// RFC 3339.
    pub created: String,
    pub filename: String,
}

fn escape_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl PageRecord {
    pub fn encode(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.id,
            escape_field(&self.kind),
            self.version,
            escape_field(&self.last_modified),
            self.parent.map(|p| p.to_string()).unwrap_or_default(),
            escape_field(&self.space),
            escape_field(&self.title),
            escape_field(&self.url),
        )
    }

    pub fn decode(line: &str) -> Option<PageRecord> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 8 {
            return None;
        }
        Some(PageRecord {
            id: f[0].parse().ok()?,
            kind: unescape_field(f[1]),
            version: f[2].parse().unwrap_or(0),
            last_modified: unescape_field(f[3]),
            parent: f[4].parse().ok(),
            space: unescape_field(f[5]),
            title: unescape_field(f[6]),
            url: unescape_field(f[7]),
        })
    }
}

impl AttRecord {
    pub fn encode(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.container,
            self.id,
            self.size,
            escape_field(&self.created),
            escape_field(&self.filename),
        )
    }

    pub fn decode(line: &str) -> Option<AttRecord> {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 {
            return None;
        }
        Some(AttRecord {
            container: f[0].parse().ok()?,
            id: f[1].parse().ok()?,
            size: f[2].parse().unwrap_or(0),
            created: unescape_field(f[3]),
            filename: unescape_field(f[4]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let p = PageRecord {
            id: 42,
            kind: "page".into(),
            version: 3,
            last_modified: "2024-01-02T03:04:05+00:00".into(),
            parent: None,
            space: "DEV".into(),
            title: "Tabs\tand\nnew lines \\ too".into(),
            url: "/spaces/DEV/pages/42/Tabs".into(),
        };
        let line = p.encode();
        assert!(!line.contains('\n'));
        assert_eq!(line.split('\t').count(), 8);
        assert_eq!(PageRecord::decode(&line), Some(p.clone()));
        let child = PageRecord {
            parent: Some(7),
            ..p
        };
        assert_eq!(PageRecord::decode(&child.encode()), Some(child));
        let a = AttRecord {
            container: 42,
            id: 43,
            size: 12,
            created: "2024-01-02T03:04:05+00:00".into(),
            filename: "notes\t.txt".into(),
        };
        assert_eq!(AttRecord::decode(&a.encode()), Some(a));
        assert_eq!(PageRecord::decode("garbage"), None);
        assert_eq!(AttRecord::decode("x\t1\t2\t3\t4"), None);
    }
}
