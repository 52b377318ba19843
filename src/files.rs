//! The files units send with their reports: their bytes kept under the
//! state directory, named by their SHA-256, and what is needed to take
//! them in safely (limits, names) and to give them back (a download
//! name, one .zip per report-period).
//!
//! Where they live: `<state_dir>/files/ab/cdef…` (the first two hex
//! digits of the SHA-256 as a directory, the other 62 as the name), with
//! `<state_dir>/files/tmp/` for files still arriving. Their rows (report,
//! name, type, size, source, sender, time, submission) are in the
//! database (`store::Files`).
//!
//! How a file is kept ([`Blobs::stage`], [`Staging::finish`]): its bytes
//! go to a temporary file in `files/tmp/` while they arrive, counted
//! against [`FileLimits::max_bytes`] and hashed; only a complete file is
//! flushed to disk and renamed to its final name. So a crash, a refused
//! file or a broken upload never leaves a half file under a final name,
//! and the same content kept twice is one file (the second rename finds
//! it in place and drops the copy). The caller then writes the rows
//! (`store::Files`), so every row names a file that exists; a file whose
//! rows were never written (the request failed after it was kept) stays
//! unreferenced and harmless, and is reused if the same content comes
//! again.
//!
//! Archives (.zip, .rar, .7z) are kept as they are, never unpacked.
//! Names are only ever data: [`sanitize_name`] turns what a sender wrote
//! into a name without path separators or control characters, and the
//! bytes are looked up by hash, never by name.
//!
//! Must not: parse or open the content, serve it (the HTTP side does,
//! always as an attachment), or delete a kept file.

use std::collections::HashMap;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::config::model::FileLimits;
use crate::store::{FileSource, Key, NewFile, StoredFile};

/// The directory of the kept files under the state directory.
pub const FILES_DIR: &str = "files";

/// The longest name kept, in characters (the extension is kept whole).
pub const MAX_NAME_CHARS: usize = 120;

/// The name given to a file whose own name has nothing left once sanitised.
pub const FALLBACK_NAME: &str = "tep-dinh-kem";

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Said to the sender as it is.
    #[error("tệp {name:?} lớn hơn {} MB, mức tối đa cho một tệp; không lưu gì", limit / (1024 * 1024))]
    TooLarge { name: String, limit: u64 },

    /// Said to the sender as it is.
    #[error("gửi quá {limit} tệp một lần; không lưu gì")]
    TooMany { limit: usize },

    #[error("cannot keep the file under {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write the .zip: {0}")]
    Zip(String),
}

impl FilesError {
    fn io(path: &Path, source: std::io::Error) -> FilesError {
        FilesError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the sender sent too much (their fault), not the server.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            FilesError::TooLarge { .. } | FilesError::TooMany { .. }
        )
    }
}

/// A kept file: its content's SHA-256 (64 lowercase hex digits) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub sha256: String,
    pub size: u64,
}

/// A file taken in: kept, with the name and type its sender gave, made safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub blob: Blob,
    /// Sanitised ([`sanitize_name`]).
    pub name: String,
    /// A `type/subtype` ([`media_type`]).
    pub media_type: String,
}

impl Received {
    /// `blob` with the name and the type its sender declared, made safe.
    pub fn new(blob: Blob, raw_name: Option<&str>, declared_type: Option<&str>) -> Received {
        let name = sanitize_name(raw_name.unwrap_or(""));
        let media_type = media_type(declared_type, &name);
        Received {
            blob,
            name,
            media_type,
        }
    }

    /// The row to record for it.
    pub fn into_new_file(
        self,
        key: &Key,
        source: FileSource,
        sender: &str,
        received_at: jiff::Timestamp,
        event_id: Option<i64>,
    ) -> NewFile {
        NewFile {
            key: key.clone(),
            sha256: self.blob.sha256,
            name: self.name,
            media_type: self.media_type,
            size: self.blob.size,
            source,
            sender: sender.to_string(),
            received_at,
            event_id,
        }
    }
}

/// Refuses more than `limits.max_count` files at once.
pub fn check_count(count: usize, limits: &FileLimits) -> Result<(), FilesError> {
    if count > limits.max_count {
        Err(FilesError::TooMany {
            limit: limits.max_count,
        })
    } else {
        Ok(())
    }
}

/// The kept files of one state directory. Cloning is cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blobs {
    root: PathBuf,
}

impl Blobs {
    /// The files of `state_dir` (`<state_dir>/files`); nothing is created
    /// until a file is kept.
    pub fn under(state_dir: &Path) -> Blobs {
        Blobs {
            root: state_dir.join(FILES_DIR),
        }
    }

    /// `<state_dir>/files`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file of `sha256` is (or would be). `None` unless
    /// `sha256` is 64 lowercase hex digits, so no path is ever made
    /// from anything else.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let hex = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        hex.then(|| self.root.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Opens the kept file of `sha256` for reading.
    pub async fn open(&self, sha256: &str) -> Result<tokio::fs::File, FilesError> {
        let path = self.path_of(sha256).ok_or_else(|| {
            FilesError::io(
                &self.root,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a SHA-256"),
            )
        })?;
        tokio::fs::File::open(&path)
            .await
            .map_err(|e| FilesError::io(&path, e))
    }

    /// Starts keeping a file called `name` (for messages), at most
    /// `limits.max_bytes` long: write its bytes, then `finish`.
    pub async fn stage(&self, name: &str, limits: &FileLimits) -> Result<Staging, FilesError> {
        let tmp = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp)
            .await
            .map_err(|e| FilesError::io(&tmp, e))?;
        let random = crate::primitives::random_hex(16).map_err(|e| FilesError::io(&tmp, e))?;
        let path = tmp.join(format!("{random}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| FilesError::io(&path, e))?;
        Ok(Staging {
            blobs: self.clone(),
            file: Some(file),
            temp: Some(path),
            hasher: Sha256::new(),
            size: 0,
            limit: limits.max_bytes,
            name: name.to_string(),
        })
    }

    /// Keeps `bytes` whole (an email's attachment, already in memory).
    pub async fn put(
        &self,
        name: &str,
        bytes: &[u8],
        limits: &FileLimits,
    ) -> Result<Blob, FilesError> {
        let mut s = self.stage(name, limits).await?;
        s.write(bytes).await?;
        s.finish().await
    }
}

/// A file being kept: in `files/tmp/` until [`Staging::finish`]; dropped
/// unfinished (refused, failed, abandoned), its temporary file is removed.
#[derive(Debug)]
pub struct Staging {
    blobs: Blobs,
    file: Option<tokio::fs::File>,
    temp: Option<PathBuf>,
    hasher: Sha256,
    size: u64,
    limit: u64,
    name: String,
}

impl Staging {
    /// Appends `chunk`; past the limit, `FilesError::TooLarge` (the
    /// temporary file is removed when this is dropped).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), FilesError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(FilesError::TooLarge {
                name: self.name.clone(),
                limit: self.limit,
            });
        }
        self.hasher.update(chunk);
        let (Some(file), Some(temp)) = (self.file.as_mut(), self.temp.as_ref()) else {
            return Ok(());
        };
        file.write_all(chunk)
            .await
            .map_err(|e| FilesError::io(temp, e))
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Flushes the file to disk and gives it its final name (or drops it
    /// when the same content is kept already).
    pub async fn finish(mut self) -> Result<Blob, FilesError> {
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let temp = self.temp.clone().expect("a staging file has a path");
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(|e| FilesError::io(&temp, e))?;
            file.sync_all()
                .await
                .map_err(|e| FilesError::io(&temp, e))?;
        }
        let path = self
            .blobs
            .path_of(&sha256)
            .expect("a SHA-256 in hex is a valid name");
        let dir = path.parent().expect("a kept file has a directory");
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| FilesError::io(dir, e))?;
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            // The same content is kept already: the temporary copy goes
            // when `self` is dropped.
        } else {
            tokio::fs::rename(&temp, &path)
                .await
                .map_err(|e| FilesError::io(&path, e))?;
            self.temp = None;
            // The new name survives a crash once its directory is on disk.
            if let Ok(d) = tokio::fs::File::open(dir).await {
                let _ = d.sync_all().await;
            }
        }
        Ok(Blob {
            sha256,
            size: self.size,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// A name as a sender wrote it, made safe to show, store and offer as a
/// download name: only its last path component (after `/` or `\`),
/// control and format characters (bidirectional overrides included) and
/// characters Windows refuses in names (`<>:"|?*`) removed, whitespace
/// runs made one space, leading dots and trailing dots and spaces
/// dropped, composed to NFC (Vietnamese letters stay), at most
/// [`MAX_NAME_CHARS`] characters with its extension kept;
/// [`FALLBACK_NAME`] when nothing is left.
pub fn sanitize_name(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::new();
    let mut space = false;
    for c in last.nfc() {
        if c.is_control() || is_format(c) || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    let trimmed = out
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    let name = shorten(trimmed, MAX_NAME_CHARS);
    if name.is_empty() {
        FALLBACK_NAME.to_string()
    } else {
        name
    }
}

/// Unicode format characters (category Cf) that matter in names: the
/// bidirectional controls that make `exe.pdf` look like `fdp.exe`, and
/// zero-width characters.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// `name` cut to `max` characters, its extension (up to 10 characters) kept.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.chars().count() <= 10 && !e.contains(' '));
    match ext {
        Some(ext) => {
            let keep = max - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end_matches(['.', ' ']))
        }
        None => name.chars().take(max).collect(),
    }
}

/// The media type to record: the declared one when it is a plain
/// `type/subtype` (parameters dropped, lower-cased), else one guessed from
/// the name's extension, else `application/octet-stream`. Only a label:
/// downloads are always attachments, whatever it says.
pub fn media_type(declared: Option<&str>, name: &str) -> String {
    let declared = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.len() <= 100
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
            };
            matches!(d.split_once('/'), Some((t, s)) if token(t) && token(s))
        });
    if let Some(d) = declared
        && d != "application/octet-stream"
    {
        return d;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "txt" => "text/plain",
        "csv" => "text/csv",
        _ => "application/octet-stream",
    }
    .to_string()
}

/// The `Content-Disposition` of a download of `name`: always an
/// attachment, with an ASCII fallback name (letters without their
/// diacritics, anything else `_`) and the real name percent-encoded
/// (RFC 6266 / RFC 8187).
pub fn content_disposition(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let name = sanitize_name(name);
    let ascii: String = name
        .nfd()
        .filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c if c.is_ascii_alphanumeric() || " .-_()".contains(c) => c,
            _ => '_',
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A size for people: "812 byte", "45,2 KB", "3,1 MB".
pub fn size_text(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    let text = if b < KB {
        return format!("{bytes} byte");
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    };
    text.replace('.', ",")
}

/// Extensions of formats that are compressed already: stored in the .zip
/// as they are rather than deflated again.
const COMPRESSED: [&str; 13] = [
    "zip", "rar", "7z", "gz", "xz", "bz2", "docx", "xlsx", "pptx", "odt", "ods", "jpg", "png",
];

/// Writes the .zip of one report-period's files into `out`: one folder
/// per unit, named by `folder_of(unit id)` (sanitised), each file under its
/// name (a second file of the same name in one folder gets " (2)" before
/// its extension, and so on). Reads one file at a time through a fixed
/// buffer: memory stays bounded whatever the sizes. Blocking: run it on a
/// blocking thread. A file missing from disk is an error, not a gap.
pub fn write_zip<W: Write + Seek>(
    blobs: &Blobs,
    files: &[StoredFile],
    folder_of: impl Fn(&str) -> String,
    out: W,
) -> Result<W, FilesError> {
    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;
    let zip_err = |e: zip::result::ZipError| FilesError::Zip(e.to_string());
    let mut zip = zip::ZipWriter::new(out);
    let mut taken: HashMap<String, u32> = HashMap::new();
    for f in files {
        let folder = folder_name(&folder_of(&f.key.unit));
        let entry = unique_entry(&mut taken, &folder, &f.name);
        let ext = f
            .name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let method = if COMPRESSED.contains(&ext.as_str()) {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .large_file(f.size >= u32::MAX as u64)
            .unix_permissions(0o644);
        zip.start_file(entry, options).map_err(zip_err)?;
        let path = blobs
            .path_of(&f.sha256)
            .ok_or_else(|| FilesError::Zip(format!("file {} has no valid SHA-256", f.id)))?;
        let mut src = std::fs::File::open(&path).map_err(|e| FilesError::io(&path, e))?;
        std::io::copy(&mut src, &mut zip).map_err(|e| FilesError::io(&path, e))?;
    }
    zip.finish().map_err(zip_err)
}

/// A unit's name as a folder of the .zip: its slashes made dashes (a
/// name is not a path), then sanitised like a file's name.
pub fn folder_name(unit_name: &str) -> String {
    sanitize_name(&unit_name.replace(['/', '\\'], "-"))
}

/// `folder/name`, or `folder/name (n).ext` for the n-th file of that name.
fn unique_entry(taken: &mut HashMap<String, u32>, folder: &str, name: &str) -> String {
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
                _ => format!("{name} ({n})"),
            }
        };
        let entry = format!("{folder}/{candidate}");
        let seen = taken.entry(entry.to_lowercase()).or_insert(0);
        *seen += 1;
        if *seen == 1 {
            return entry;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_made_safe() {
        for (raw, want) in [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\boot.ini", "boot.ini"),
            ("<script>alert(1)</script>.pdf", "script.pdf"),
            (
                "<img src=x onerror=alert(1)>.pdf",
                "img src=x onerror=alert(1).pdf",
            ),
            ("bao\u{0}cao\r\n.pdf", "baocao.pdf"),
            ("\u{202E}fdp.exe", "fdp.exe"),
            ("Báo cáo   quý I.docx", "Báo cáo quý I.docx"),
            ("...", FALLBACK_NAME),
            ("", FALLBACK_NAME),
            ("/", FALLBACK_NAME),
            (" .hidden ", "hidden"),
        ] {
            assert_eq!(sanitize_name(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn a_long_name_is_cut_and_keeps_its_extension() {
        let long = format!("{}.xlsx", "Báo cáo tổng hợp ".repeat(20));
        let got = sanitize_name(&long);
        assert_eq!(got.chars().count(), MAX_NAME_CHARS.min(got.chars().count()));
        assert!(got.chars().count() <= MAX_NAME_CHARS);
        assert!(got.ends_with(".xlsx"), "{got}");
        assert!(got.starts_with("Báo cáo tổng hợp"));
        let no_ext = "x".repeat(300);
        assert_eq!(sanitize_name(&no_ext).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn decomposed_vietnamese_is_composed() {
        let nfd = "Ba\u{301}o ca\u{301}o.pdf";
        assert_eq!(sanitize_name(nfd), "Báo cáo.pdf");
    }

    #[test]
    fn media_types_are_plain_or_guessed() {
        assert_eq!(
            media_type(Some("Application/PDF; charset=x"), "a.pdf"),
            "application/pdf"
        );
        assert_eq!(
            media_type(Some("text/html\r\nX: y"), "a.pdf"),
            "application/pdf"
        );
        assert_eq!(media_type(None, "a.XLSX").len(), 65);
        assert_eq!(
            media_type(Some("application/octet-stream"), "a.zip"),
            "application/zip"
        );
        assert_eq!(media_type(None, "a"), "application/octet-stream");
    }

    #[test]
    fn the_download_name_is_an_attachment_with_an_ascii_fallback() {
        let d = content_disposition("Báo cáo \"quý\" I.pdf");
        assert_eq!(
            d,
            "attachment; filename=\"Bao cao quy I.pdf\"; \
             filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20qu%C3%BD%20I%2Epdf"
        );
        let d = content_disposition("a\r\nSet-Cookie: x.pdf");
        assert!(!d.contains('\n') && !d.contains('\r'), "{d}");
    }

    #[test]
    fn sizes_are_written_for_people() {
        assert_eq!(size_text(812), "812 byte");
        assert_eq!(size_text(46_285), "45,2 KB");
        assert_eq!(size_text(3_250_586), "3,1 MB");
    }

    #[test]
    fn entries_of_the_same_name_are_numbered() {
        let mut taken = HashMap::new();
        assert_eq!(unique_entry(&mut taken, "Xã A", "bc.pdf"), "Xã A/bc.pdf");
        assert_eq!(
            unique_entry(&mut taken, "Xã A", "bc.pdf"),
            "Xã A/bc (2).pdf"
        );
        assert_eq!(
            unique_entry(&mut taken, "Xã A", "BC.pdf"),
            "Xã A/BC (3).pdf"
        );
        assert_eq!(unique_entry(&mut taken, "Xã B", "bc.pdf"), "Xã B/bc.pdf");
    }

    #[tokio::test]
    async fn the_same_content_is_one_file_and_an_oversize_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::under(dir.path());
        let limits = FileLimits {
            max_bytes: 10,
            max_count: 2,
        };
        let a = blobs.put("a", b"hello", &limits).await.unwrap();
        let b = blobs.put("b", b"hello", &limits).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.size, 5);
        let path = blobs.path_of(&a.sha256).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        let err = blobs.put("c", b"01234567890", &limits).await.unwrap_err();
        assert!(matches!(err, FilesError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("lớn hơn"));
        let tmp: Vec<_> = std::fs::read_dir(blobs.root().join("tmp"))
            .unwrap()
            .collect();
        assert!(tmp.is_empty(), "no half file left: {tmp:?}");
        let kept: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(kept.len(), 1);
        assert!(blobs.path_of("../../etc/passwd").is_none());
        assert!(check_count(3, &limits).is_err());
    }
}
