//! A deterministic corpus: spaces, page trees of realistic depth, blog posts,
//! labels, comments and attachments. Every document is built once as a small
//! document model and written out twice, as Confluence storage format for
//! Cairn and as wikitext for MediaWiki, so both wikis hold the same pages.

mod words;
mod write;
pub use words::{FUNCTION, LABELS, RARE, TOPICS};
pub use write::{plain, storage, wikitext};

/// xorshift64*: fast, deterministic, good enough for picking words. It
/// also holds the topics of the page being written (see [`Rng::word`]).
#[derive(Clone)]
pub struct Rng(u64, [&'static str; 4]);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, [""; 4]);
        r.new_topics();
        r
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Picks the four topic words of the next page: domain words, a few
    /// (like "service") on a third of the pages, most on a few percent.
    pub fn new_topics(&mut self) {
        for i in 0..4 {
            let u = self.below(1000) as f64 / 1000.0;
            self.1[i] = TOPICS[((u * u) * TOPICS.len() as f64) as usize];
        }
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
    /// `n` words with a Zipf-like skew: a few words are very common, most are rare.
    pub fn words(&mut self, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.word());
        }
        s
    }
    /// Between `min` and `min + spread - 1` words.
    pub fn words_n(&mut self, min: usize, spread: usize) -> String {
        let n = min + self.below(spread);
        self.words(n)
    }
    /// A word of running text, as real pages mix them: function words
    /// (45 %), the page's topic words (25 %), and the long tail of a 20,000
    /// word vocabulary with Zipf frequencies (30 %), where the rare words
    /// (`RARE`) sit far down: each is on a fraction of a percent of pages.
    pub fn word(&mut self) -> &'static str {
        match self.below(100) {
            0..=44 => FUNCTION[self.below(FUNCTION.len())],
            45..=69 => self.1[self.below(4)],
            _ => {
                let v = vocabulary();
                let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
                let i = v.cumulative.partition_point(|c| *c < u);
                v.words[i.min(v.words.len() - 1)]
            }
        }
    }
    /// A word of a title: a topic word or a long-tail word.
    pub fn title_word(&mut self) -> &'static str {
        loop {
            let w = self.word();
            if !FUNCTION.contains(&w) {
                return w;
            }
        }
    }
}

struct Vocabulary {
    words: Vec<&'static str>,
    /// Cumulative Zipf (s = 1) probabilities by rank.
    cumulative: Vec<f64>,
}

/// The long tail: made-up words from syllables, with the topic words (a
/// page may mention another page's topic) at every 20th rank from 200 on
/// and [`RARE`] at fixed deep ranks. Deterministic.
fn vocabulary() -> &'static Vocabulary {
    static V: std::sync::OnceLock<Vocabulary> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        const SYL: &[&str] = &[
            "ka", "lo", "mi", "ren", "tor", "vi", "sa", "del", "mon", "qua", "pri", "zu", "fen",
            "gal", "bor", "tis", "nu", "ver", "shi", "pel", "dra", "om", "lux", "ter", "ani",
            "cor", "be", "fi", "go", "hal", "jin", "kel",
        ];
        const SIZE: usize = 20_000;
        let mut seen: std::collections::HashSet<String> = TOPICS
            .iter()
            .chain(FUNCTION)
            .chain(RARE)
            .map(|w| w.to_string())
            .collect();
        let mut words: Vec<&'static str> = Vec::with_capacity(SIZE);
        let mut r = Rng(0x5EED_5EED_5EED_5EED, [""; 4]);
        while words.len() < SIZE {
            let rank = words.len() + 1;
            if rank >= 200 && rank.is_multiple_of(20) && (rank - 200) / 20 < TOPICS.len() {
                words.push(TOPICS[(rank - 200) / 20]);
                continue;
            }
            if rank >= 4000 && rank.is_multiple_of(2000) && (rank - 4000) / 2000 < RARE.len() {
                words.push(RARE[(rank - 4000) / 2000]);
                continue;
            }
            let n = 2 + r.below(2);
            let w: String = (0..n).map(|_| SYL[r.below(SYL.len())]).collect();
            if seen.insert(w.clone()) {
                words.push(Box::leak(w.into_boxed_str()));
            }
        }
        let weights: Vec<f64> = (1..=words.len()).map(|k| 1.0 / k as f64).collect();
        let sum: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / sum;
                acc
            })
            .collect();
        Vocabulary { words, cumulative }
    })
}

/// One block of a page body.
pub enum Block {
    Heading(u8, String),
    Para(Vec<Inline>),
    List(bool, Vec<String>),
    Table(Vec<Vec<String>>),
    Code(&'static str, String),
    Panel(&'static str, String),
    Image(String),
}

pub enum Inline {
    Text(String),
    Bold(String),
    /// A link to another page of the same space, by title.
    Link(String),
}

pub struct Space {
    pub key: String,
    pub name: String,
}

pub struct Page {
    /// Index into the corpus' page list; the parent's index is smaller.
    pub index: usize,
    pub space: usize,
    pub parent: Option<usize>,
    pub blog: bool,
    pub title: String,
    pub body: Vec<Block>,
    pub labels: Vec<&'static str>,
    pub comments: Vec<String>,
    /// (file name, bytes)
    pub attachments: Vec<(String, Vec<u8>)>,
}

pub struct Corpus {
    pub spaces: Vec<Space>,
    pub pages: Vec<Page>,
}

/// A corpus of `n` pages (about 5 % of them blog posts), spread over
/// `max(4, n / 2500)` spaces.
pub fn generate(n: usize, seed: u64) -> Corpus {
    let mut r = Rng::new(seed);
    let nspaces = (n / 2500).max(4);
    let spaces = (0..nspaces)
        .map(|i| Space {
            key: format!("B{i:03}"),
            name: format!("Bench {} {i}", capitalise(r.title_word())),
        })
        .collect::<Vec<_>>();
    let mut pages: Vec<Page> = Vec::with_capacity(n);
    // Per space: the pages so far and their depths, to grow trees where a
    // real wiki grows them (mostly two to five levels down).
    let mut per_space: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nspaces];
    for index in 0..n {
        let space = index % nspaces;
        let blog = index % 20 == 19;
        let parent = if blog || per_space[space].is_empty() {
            None
        } else {
            let members = &per_space[space];
            // Prefer recent pages (deep trees), sometimes the top of the tree.
            let pick = if r.chance(15) {
                members[r.below(members.len().min(8))]
            } else {
                members[members.len() - 1 - r.below(members.len().min(40))]
            };
            if pick.1 >= 7 {
                Some(members[0].0)
            } else {
                Some(pick.0)
            }
        };
        let depth = parent.map_or(0, |p| {
            per_space[space]
                .iter()
                .find(|(i, _)| *i == p)
                .map_or(0, |(_, d)| d + 1)
        });
        r.new_topics();
        let title_words: Vec<&str> = (0..2 + r.below(3)).map(|_| r.title_word()).collect();
        let title = format!(
            "{} {} {}",
            capitalise(title_words[0]),
            title_words[1..].join(" "),
            index
        );
        let siblings: Vec<String> = per_space[space]
            .iter()
            .rev()
            .take(5)
            .map(|(i, _)| pages[*i].title.clone())
            .collect();
        let attachments = if index % 20 == 3 {
            vec![(format!("diagram-{index}.png"), {
                let len = 2_000 + r.below(30_000);
                png_bytes(&mut r, len)
            })]
        } else if index % 20 == 11 {
            vec![(
                format!("notes-{index}.txt"),
                r.words_n(200, 800).into_bytes(),
            )]
        } else {
            Vec::new()
        };
        let body = body(&mut r, &siblings, attachments.first().map(|a| a.0.as_str()));
        let labels = (0..r.below(4)).map(|_| r.pick(LABELS)).collect::<Vec<_>>();
        let mut labels = labels;
        labels.sort_unstable();
        labels.dedup();
        let comments = (0..if r.chance(30) { 1 + r.below(3) } else { 0 })
            .map(|_| r.words_n(8, 30))
            .collect();
        if !blog {
            per_space[space].push((index, depth));
        }
        pages.push(Page {
            index,
            space,
            parent,
            blog,
            title,
            body,
            labels,
            comments,
            attachments,
        });
    }
    Corpus { spaces, pages }
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Bytes that start like a PNG file: the attachments are served, not decoded.
fn png_bytes(r: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    while v.len() < len {
        v.extend_from_slice(&r.next().to_le_bytes());
    }
    v.truncate(len);
    v
}

fn body(r: &mut Rng, siblings: &[String], attachment: Option<&str>) -> Vec<Block> {
    let mut b = Vec::new();
    // Sizes like real pages: most a few KB, some long.
    let spread = if r.chance(10) { 10 } else { 4 };
    let sections = 1 + r.below(spread);
    for _ in 0..sections {
        b.push(Block::Heading(2, capitalise(&r.words_n(2, 3))));
        for _ in 0..1 + r.below(3) {
            let mut inl = vec![Inline::Text(capitalise(&r.words_n(8, 25)) + ". ")];
            if r.chance(30) {
                inl.push(Inline::Bold(r.words(2)));
                inl.push(Inline::Text(format!(" {}. ", r.words_n(6, 10))));
            }
            if !siblings.is_empty() && r.chance(35) {
                inl.push(Inline::Text("See ".into()));
                inl.push(Inline::Link(siblings[r.below(siblings.len())].clone()));
                inl.push(Inline::Text(".".into()));
            }
            b.push(Block::Para(inl));
        }
        match r.below(8) {
            0 | 1 => b.push(Block::List(
                r.chance(30),
                (0..2 + r.below(5)).map(|_| r.words_n(3, 8)).collect(),
            )),
            2 => {
                let cols = 2 + r.below(3);
                b.push(Block::Table(
                    (0..2 + r.below(6))
                        .map(|_| (0..cols).map(|_| r.words_n(1, 3)).collect())
                        .collect(),
                ))
            }
            3 => b.push(Block::Code(
                ["bash", "java", "sql", "yaml"][r.below(4)],
                (0..2 + r.below(6))
                    .map(|_| format!("{} --{} {}", r.word(), r.word(), r.word()))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
            4 => b.push(Block::Panel(
                ["info", "note", "warning", "tip"][r.below(4)],
                capitalise(&r.words_n(10, 15)),
            )),
            _ => {}
        }
    }
    if let Some(a) = attachment {
        if a.ends_with(".png") {
            b.push(Block::Image(a.to_owned()));
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search classes mean what they say: the common word is on many
    /// pages, the rare word on a fraction of a percent.
    #[test]
    fn query_words_have_realistic_document_frequencies() {
        let c = generate(4000, crate::SEED);
        let share = |w: &str| {
            let n = c
                .pages
                .iter()
                .filter(|p| {
                    plain(&p.body)
                        .split(|ch: char| !ch.is_alphanumeric())
                        .any(|t| t.eq_ignore_ascii_case(w))
                })
                .count();
            n as f64 / c.pages.len() as f64
        };
        for w in [
            "service", "deploy", "pipeline", "capybara", "latency", "cache", "runbook",
        ] {
            eprintln!("{w}: {:.1} %", share(w) * 100.0);
        }
        assert!(share("service") > 0.2);
        assert!(share("capybara") < 0.01);
    }
}
