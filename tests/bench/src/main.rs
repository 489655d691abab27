//! `cairn-bench`: the pieces of the performance harness that `run.sh` drives.
//!
//! - `load`: generates the corpus and loads it into a running Cairn over its
//!   REST API and admin pages (users, spaces, page trees, blog posts, labels,
//!   comments, attachments), then writes a manifest of what it created.
//! - `mix`: the Data Center App Performance Toolkit mix as concurrent
//!   logged-in users, driven by goose; writes per-action latencies as JSON.
//! - `snapshot`: saves the HTML of pages as a logged-in user sees them, for
//!   nginx to serve as static files (the ceiling of a page view).
//! - `mediawiki-dump`: the same corpus as a MediaWiki XML export.
//! - `search`: CQL over REST next to PostgreSQL full-text search on the same corpus.

mod corpus;
mod load;
mod mix;
mod report;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cairn-bench", about = "Cairn's performance harness")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Load the corpus into a running Cairn.
    Load {
        #[arg(long)]
        url: String,
        /// An administrator's name and password.
        #[arg(long, default_value = "admin")]
        admin: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value_t = 10_000)]
        pages: usize,
        /// Users the mix logs in as.
        #[arg(long, default_value_t = 200)]
        users: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        #[arg(long)]
        manifest: PathBuf,
    },
    /// Run the toolkit's mix against Cairn.
    Mix {
        #[arg(long)]
        url: String,
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long, default_value_t = 200)]
        users: usize,
        /// Users started per second.
        #[arg(long, default_value_t = 10)]
        hatch_rate: usize,
        #[arg(long, default_value_t = 60)]
        seconds: usize,
        /// Actions all users together start per hour, as the toolkit's
        /// `total_actions_per_hour` (its default is 20000); 0 runs every
        /// user back to back with no think time.
        #[arg(long, default_value_t = 20_000)]
        actions_per_hour: u64,
        /// Where the per-action results go (JSON).
        #[arg(long)]
        out: PathBuf,
    },
    /// Save pages' HTML as a logged-in user sees it, and the list of paths.
    Snapshot {
        #[arg(long)]
        url: String,
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// Directory for the HTML files (served by nginx as `/p/<id>.html`).
        #[arg(long)]
        out: PathBuf,
    },
    /// The corpus as a MediaWiki XML dump, for `importDump.php`.
    MediawikiDump {
        #[arg(long, default_value_t = 10_000)]
        pages: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// The corpus in a PostgreSQL full-text search table, and the same
    /// query classes timed there and as CQL over Cairn's REST API.
    Search {
        #[arg(long)]
        pg: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        manifest: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        pages: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Markdown report and plots' data from a results directory.
    Report {
        #[arg(long)]
        results: PathBuf,
    },
}

/// The corpus is the same in every run and for every peer.
pub const SEED: u64 = 20_261_126;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Load {
            url,
            admin,
            password,
            pages,
            users,
            concurrency,
            manifest,
        } => {
            load::load(
                &load::Target {
                    url,
                    admin,
                    password,
                },
                pages,
                users,
                concurrency,
                &manifest,
            )
            .await
        }
        Cmd::Mix {
            url,
            manifest,
            users,
            hatch_rate,
            seconds,
            actions_per_hour,
            out,
        } => {
            mix::run(
                &url,
                &manifest,
                users,
                hatch_rate,
                seconds,
                actions_per_hour,
                &out,
            )
            .await
        }
        Cmd::Snapshot {
            url,
            manifest,
            count,
            out,
        } => load::snapshot(&url, &manifest, count, &out).await,
        Cmd::MediawikiDump { pages, out } => load::mediawiki_dump(pages, &out),
        Cmd::Search {
            pg,
            url,
            manifest,
            pages,
            out,
        } => load::search(&pg, &url, &manifest, pages, &out).await,
        Cmd::Report { results } => report::write(&results),
    }
}
