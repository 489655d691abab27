//! Attachments: content-addressed storage in the shared home, versions,
//! downloads, limits while streaming, crash safety, verification on read.

use std::path::Path;
use std::time::Duration;

use cairn_tests::{wait_until, TestNode};
use tokio::io::AsyncWriteExt;

use crate::perms::upload;

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn upload_version_download_and_verify() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("ATT", "Attach").await;
    let page = c.create_page("ATT", "Files", "", None).await;
    let r = upload(&c, page, "notes.txt", b"version one").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Uploaded notes.txt"));
    let r = upload(&c, page, "notes.txt", b"version two!").await;
    assert_eq!(r.status(), 200);
    let r = c
        .get(&format!("/download/attachments/{page}/notes.txt"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"version two!");
    let r = c
        .get(&format!("/download/attachments/{page}/notes.txt?version=1"))
        .await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"version one");
    // Content-addressed: the file's name is its SHA-256.
    // Large files stream through (no request-size cap below the limit).
    let big: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    assert_eq!(upload(&c, page, "big.bin", &big).await.status(), 200);
    let r = c
        .get(&format!("/download/attachments/{page}/big.bin"))
        .await;
    assert_eq!(r.bytes().await.unwrap().len(), big.len());
    // Same bytes again are stored once.
    let p2 = c.create_page("ATT", "Files 2", "", None).await;
    upload(&c, p2, "copy.txt", b"version one").await;
    assert_eq!(
        files_under(&node.shared_home.join("attachments"))
            .iter()
            .filter(|p| !p.starts_with(node.shared_home.join("attachments/tmp")))
            .count(),
        3
    );
    // A damaged file is refused on read, not served.
    let db = node.sql().await;
    let sha: String = db
        .query_one("SELECT file_sha256 FROM content_versions v JOIN content c ON c.id = v.content_id WHERE c.title = 'notes.txt' AND v.version = 2", &[])
        .await
        .unwrap()
        .get(0);
    let path = node
        .shared_home
        .join("attachments")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    std::fs::write(&path, b"tampered!!!!").unwrap();
    let r = c
        .get(&format!("/download/attachments/{page}/notes.txt"))
        .await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().await.unwrap().contains("tampered"));
}

#[tokio::test]
async fn size_limit_is_enforced_while_streaming() {
    let node = TestNode::start_with(|s| s.files.set_max_size(1024)).await;
    let c = node.login("admin").await;
    c.create_space("LIM", "Limits").await;
    let page = c.create_page("LIM", "Big", "", None).await;
    let r = upload(&c, page, "big.bin", &vec![7u8; 4096]).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("size limit"));
    assert!(
        files_under(&node.shared_home.join("attachments")).is_empty(),
        "nothing kept"
    );
    let db = node.sql().await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM content WHERE content_type = 'attachment'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    assert_eq!(
        upload(&c, page, "small.bin", &[1u8; 512]).await.status(),
        200
    );
}

#[tokio::test]
async fn an_interrupted_upload_leaves_nothing_visible() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("CR", "Crash").await;
    let page = c.create_page("CR", "Crash", "", None).await;
    let addr = node.base.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let boundary = "XyZbOuNdArY";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        c.csrf
    );
    let req = format!(
        "POST /pages/{page}/attachments HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n{head}",
        c.cookie,
        head.len() + 10_000_000
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(&vec![42u8; 300_000]).await.unwrap();
    s.flush().await.unwrap();
    // Give the server time to have started writing, then "crash" the client.
    let tmp = node.shared_home.join("attachments").join("tmp");
    assert!(
        wait_until(Duration::from_secs(10), || async {
            !files_under(&tmp).is_empty()
        })
        .await,
        "the upload reached a temp file"
    );
    drop(s);
    assert!(
        wait_until(Duration::from_secs(10), || async {
            files_under(&node.shared_home.join("attachments")).is_empty()
        })
        .await,
        "the partial temp file is removed and nothing is stored under a hash"
    );
    let db = node.sql().await;
    let n: i64 = db
        .query_one(
            "SELECT count(*) FROM content WHERE content_type = 'attachment'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let (_, html) = c.get_text(&format!("/pages/{page}/attachments")).await;
    assert!(!html.contains("half.bin"));
}

#[tokio::test]
async fn hostile_file_names_and_types_are_neutralised() {
    let node = TestNode::start().await;
    let c = node.login("admin").await;
    c.create_space("HOS", "Hostile").await;
    let page = c.create_page("HOS", "Files", "", None).await;
    let name = "<img src=x onerror=alert(1)>.html";
    assert_eq!(
        upload(&c, page, name, b"<script>alert(1)</script>")
            .await
            .status(),
        200
    );
    let (_, html) = c.get_text(&format!("/pages/{page}/attachments")).await;
    assert!(!html.contains("<img src=x"), "the name is escaped");
    let encoded = cairn::urls::enc(name);
    let r = c
        .get(&format!("/download/attachments/{page}/{encoded}"))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "active content is never inline"
    );
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(
        upload(&c, page, "../../etc/passwd", b"x").await.status(),
        400
    );
    // Every route that hands the file out (the UI's and REST's, by name and
    // by id) says so the same way, for HTML and for SVG.
    assert_eq!(
        upload(
            &c,
            page,
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"
        )
        .await
        .status(),
        200
    );
    let (_, list) = c
        .get_text(&format!("/rest/api/content/{page}/child/attachment"))
        .await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let files = list["results"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{list}");
    for f in files {
        let id = f["id"].as_str().unwrap();
        let title = f["title"].as_str().unwrap();
        for path in [
            format!("/rest/api/content/{id}/download"),
            format!("/download/attachments/{page}/{}", cairn::urls::enc(title)),
        ] {
            let r = c.get(&path).await;
            assert_eq!(r.status(), 200, "{path}");
            let h = r.headers();
            assert!(
                h["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment"),
                "{path}: active content is never inline"
            );
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(
                h["content-security-policy"], "sandbox; default-src 'none'",
                "{path}"
            );
        }
    }
}
