//! Writing outputs: regular files atomically (all or nothing), everything else as a stream.
//!
//! `-o FILE` has three cases ([`output_kind`]):
//! - `-` is standard output;
//! - a character device, a FIFO, or a symbolic link (`/dev/null`, `/dev/stdout`, a named pipe)
//!   is written into directly, as the shell's `>` would: it is never replaced by a regular file,
//!   and a symbolic link is followed with the kernel's own checks;
//! - a regular file, or a name that does not exist yet, is written atomically: a new file
//!   beside it with an unpredictable name, created exclusively (`O_CREAT|O_EXCL`, so a planted
//!   file or symbolic link is never followed), given the old file's mode (and owner, when
//!   allowed), then renamed over it. Several files (`rules` + `rules.v6`) are renamed together:
//!   when one rename fails, the ones already done are rolled back from hard-link backups.
//!
//! Directories, block devices and sockets are refused. While temporary files exist, SIGINT,
//! SIGTERM, SIGHUP and SIGQUIT are held back, so Ctrl-C cannot leave one behind: it takes
//! effect once every file is in place or removed.

use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::diag::{Error, Result};
use crate::i18n::Text;
use crate::tr;

/// Where an output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputKind {
    /// `-`: standard output.
    Stdout,
    /// A device, FIFO or symbolic link: written into as it is.
    Stream(PathBuf),
    /// A regular file, or a new one: written atomically.
    File(PathBuf),
}

/// What `-o path` means (see the module documentation).
pub fn output_kind(path: &Path) -> Result<OutputKind> {
    if path.as_os_str() == "-" {
        return Ok(OutputKind::Stdout);
    }
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match std::fs::metadata(path) {
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() && !link {
                Ok(OutputKind::File(path.to_path_buf()))
            } else if t.is_file() || t.is_char_device() || t.is_fifo() {
                Ok(OutputKind::Stream(path.to_path_buf()))
            } else {
                let p = crate::escape::escape_controls(&path.display().to_string()).into_owned();
                let what = if t.is_dir() {
                    tr!("a directory", "ディレクトリ")
                } else if t.is_block_device() {
                    tr!("a block device", "ブロックデバイス")
                } else {
                    tr!("a socket", "ソケット")
                };
                Err(Error::usage(
                    Text::new(
                        format!("cannot write to {p}: it is {}", what.en),
                        format!("{p} には書き込めません: {}です", what.ja),
                    ),
                    Some(tr!(
                        "give a file name, a character device or FIFO, or - for standard output",
                        "ファイル名、キャラクタデバイスか FIFO、または標準出力の - を指定してください"
                    )),
                ))
            }
        }
        // A dangling symbolic link, or nothing: a new regular file, in a directory that must
        // exist.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !link {
                check_output_dir(path)?;
            }
            Ok(OutputKind::File(path.to_path_buf()))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The directory `path` is to be written into exists (and is a directory): otherwise an error
/// that names that *output directory*, so "no such file" is not read as the input missing.
pub fn check_output_dir(path: &Path) -> Result<()> {
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => {
            let d = crate::escape::escape_controls(&dir.display().to_string()).into_owned();
            Err(Error::usage(
                tr!(
                    "the output directory {d} is not a directory",
                    "出力先のディレクトリ {d} はディレクトリではありません"
                ),
                Some(tr!(
                    "give -o a path in an existing directory",
                    "-o には既存のディレクトリの中のパスを指定してください"
                )),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let d = crate::escape::escape_controls(&dir.display().to_string()).into_owned();
            Err(Error::usage(
                tr!(
                    "the output directory {d} does not exist: nothing was written",
                    "出力先のディレクトリ {d} がありません: 何も書き込んでいません"
                ),
                Some(tr!(
                    "create it first (mkdir -p {d}) or give -o a path in an existing directory",
                    "先に作成するか (mkdir -p {d})、-o に既存のディレクトリの中のパスを指定してください"
                )),
            ))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Write one output to `path` (see [`output_kind`]).
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    match output_kind(path)? {
        OutputKind::Stdout => write_stdout(bytes),
        OutputKind::Stream(p) => write_stream(&p, &[bytes]),
        OutputKind::File(p) => write_all_atomic(&[(p, bytes)]),
    }
}

/// Write an output made of parts (`(suffix, text)`, the first suffix usually empty): to a
/// regular file each part goes to `path` + suffix, all or nothing; to standard output or a
/// stream the parts follow one another, `separator(suffix)` before each but the first (so
/// `-o /dev/stdout` prints what no `-o` prints).
pub fn write_output_set(
    path: &Path,
    parts: &[(String, String)],
    separator: impl Fn(&str) -> String,
) -> Result<()> {
    let joined = || {
        let mut all: Vec<u8> = Vec::new();
        for (i, (suffix, text)) in parts.iter().enumerate() {
            if i > 0 {
                all.extend_from_slice(separator(suffix).as_bytes());
            }
            all.extend_from_slice(text.as_bytes());
        }
        all
    };
    match output_kind(path)? {
        OutputKind::Stdout => write_stdout(&joined()),
        OutputKind::Stream(p) => write_stream(&p, &[&joined()]),
        OutputKind::File(p) => {
            let mut files = Vec::new();
            for (suffix, text) in parts {
                let mut name = p.clone().into_os_string();
                name.push(suffix);
                let name = PathBuf::from(name);
                // A companion (`FILE.v6`) that exists as something else is refused too.
                if suffix.is_empty() || matches!(output_kind(&name)?, OutputKind::File(_)) {
                    files.push((name, text.as_bytes()));
                } else {
                    return Err(not_regular(&name));
                }
            }
            write_all_atomic(&files)
        }
    }
}

/// Write one file from bytes (for binary outputs such as XLSX); the same as [`write_output`].
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_output(path, bytes)
}

fn not_regular(path: &Path) -> Error {
    let p = crate::escape::escape_controls(&path.display().to_string()).into_owned();
    Error::usage(
        tr!(
            "{p} exists and is not a regular file: not replaced",
            "{p} は通常のファイルではないため、置き換えません"
        ),
        None,
    )
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        // A closed pipe (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("-", e)),
        _ => Ok(()),
    }
}

fn write_stream(path: &Path, chunks: &[&[u8]]) -> Result<()> {
    // No O_CREAT: it exists. Truncation matters for a symbolic link to a regular file and is
    // ignored by devices and FIFOs.
    let mut f = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    for c in chunks {
        f.write_all(c).map_err(|e| Error::io(path, e))?;
    }
    f.flush().map_err(|e| Error::io(path, e))
}

/// Write every `(path, content)` as regular files, all or nothing: each goes to a new
/// temporary file beside its target (unpredictable name, created exclusively, the target's
/// mode and owner), then all are renamed into place. On any error the temporaries are removed,
/// renames already done are undone, and no target is changed. An existing target that is not
/// a regular file is refused (use [`write_output`] for devices and FIFOs).
pub fn write_all_atomic<C: AsRef<[u8]>>(files: &[(PathBuf, C)]) -> Result<()> {
    write_all_with(files, |temp, path| {
        temp.persist(path).map(|_| ()).map_err(|e| e.error)
    })
}

/// [`write_all_atomic`] with the rename step given (tests make it fail).
fn write_all_with<C: AsRef<[u8]>>(
    files: &[(PathBuf, C)],
    mut rename: impl FnMut(tempfile::NamedTempFile, &Path) -> std::io::Result<()>,
) -> Result<()> {
    for (path, _) in files {
        check_output_dir(path)?;
    }
    for (path, _) in files {
        if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
                && std::fs::metadata(path).is_err()
            {
                continue; // dangling: replaced by the new file, as before
            }
            return Err(not_regular(path));
        }
    }
    let _held = HoldSignals::new();
    let mut temps: Vec<tempfile::NamedTempFile> = Vec::new();
    for (path, content) in files {
        // Dropping `temps` on an early return removes every temporary written so far.
        temps.push(write_temp(path, content.as_ref())?);
    }
    // Backups (hard links to the old files) so that a failed rename can be undone.
    let mut backups: Vec<Option<PathBuf>> = Vec::new();
    let remove_backups = |backups: &[Option<PathBuf>]| {
        for b in backups.iter().flatten() {
            let _ = std::fs::remove_file(b);
        }
    };
    if files.len() > 1 {
        for (path, _) in files {
            match backup(path) {
                Ok(b) => backups.push(b),
                Err(e) => {
                    remove_backups(&backups);
                    return Err(Error::io(path, e));
                }
            }
        }
    }
    let mut done: Vec<usize> = Vec::new();
    for (i, temp) in temps.into_iter().enumerate() {
        let path = &files[i].0;
        if let Err(e) = rename(temp, path) {
            // That temporary is dropped (removed) by now, and so are the later ones.
            let rolled_back = rollback(files, &done, &backups);
            remove_backups(&backups);
            let err = Error::io(path, e);
            return if rolled_back {
                Err(err)
            } else {
                Err(Error::usage(
                    tr!(
                        "{}; undoing the files already replaced failed too: check them",
                        "{}。置き換え済みのファイルを元に戻すことにも失敗しました: 確認してください",
                        err.plain(crate::i18n::Lang::En)
                    ),
                    None,
                ))
            };
        }
        done.push(i);
    }
    remove_backups(&backups);
    Ok(())
}

/// Write `content` to a new temporary file beside `path`, with `path`'s mode and owner when
/// it exists (a new file gets 0666 less the umask, as `>` would).
fn write_temp(path: &Path, content: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let old = std::fs::metadata(path).ok().filter(|m| m.is_file());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".portplan.tmp")
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(&dir)
        .map_err(|e| Error::io(path, e))?;
    if let Some(m) = &old {
        // Owner first (chown clears set-id bits), then the exact mode, umask or not.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(m.uid()), Some(m.gid()));
        temp.as_file()
            .set_permissions(Permissions::from_mode(m.mode() & 0o7777))
            .map_err(|e| Error::io(path, e))?;
    }
    let f: &mut File = temp.as_file_mut();
    f.write_all(content)
        .and_then(|()| f.flush())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(path, e))?;
    Ok(temp)
}

/// A hard link to `path` under an unpredictable name beside it (`None` when `path` does not
/// exist), to restore it if a later rename fails.
fn backup(path: &Path) -> std::io::Result<Option<PathBuf>> {
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Reserve a name exclusively, then put the link there.
    let b = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".portplan.bak")
        .make_in(&dir, |p| {
            match std::fs::hard_link(path, p) {
                Ok(()) => Ok(()),
                // Hard links unsupported here: a copy does as well.
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(p)
                    .and_then(|mut f| std::io::copy(&mut File::open(path)?, &mut f))
                    .map(|_| ()),
                Err(e) => Err(e),
            }
        })?;
    // Kept until the caller removes it (dropping the handle would delete it now).
    Ok(Some(b.into_temp_path().keep().map_err(|e| e.error)?))
}

/// Put back the files of `done` from their backups (or remove them when there was none).
fn rollback<C>(files: &[(PathBuf, C)], done: &[usize], backups: &[Option<PathBuf>]) -> bool {
    let mut ok = true;
    for &i in done {
        let path = &files[i].0;
        let r = match backups.get(i).and_then(Option::as_ref) {
            Some(b) => std::fs::rename(b, path),
            None => std::fs::remove_file(path),
        };
        ok &= r.is_ok();
    }
    ok
}

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT held back (pending, not lost) while it lives.
struct HoldSignals {
    old: libc::sigset_t,
}

impl HoldSignals {
    fn new() -> HoldSignals {
        // SAFETY: sigemptyset/sigaddset fill a local sigset_t; pthread_sigmask changes only
        // this thread's mask and stores the previous one in `old`.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            HoldSignals { old }
        }
    }
}

impl Drop for HoldSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`; a held-back signal is delivered now.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("portplan-fs-")
            .tempdir()
            .unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_is_written_when_one_file_fails() {
        let dir = tempdir();
        let good = dir.path().join("a.txt");
        let bad = dir.path().join("missing-dir").join("b.txt");
        let r = write_all_atomic(&[(good.clone(), "x"), (bad, "y")]);
        assert!(r.is_err());
        assert!(!good.exists());
        assert!(names(dir.path()).is_empty(), "no temporaries left");
        write_all_atomic(&[(good.clone(), "x")]).unwrap();
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "x");
    }

    #[test]
    fn a_failed_second_rename_restores_the_first_file() {
        let dir = tempdir();
        let v4 = dir.path().join("rules");
        let v6 = dir.path().join("rules.v6");
        std::fs::write(&v4, "old v4").unwrap();
        let files = [(v4.clone(), "new v4"), (v6.clone(), "new v6")];
        let mut calls = 0;
        let r = write_all_with(&files, |temp, path| {
            calls += 1;
            if calls == 2 {
                // The first file is in place by now.
                assert_eq!(std::fs::read_to_string(&v4).unwrap(), "new v4");
                return Err(std::io::Error::other("injected"));
            }
            temp.persist(path).map(|_| ()).map_err(|e| e.error)
        });
        assert!(
            r.unwrap_err()
                .plain(crate::i18n::Lang::En)
                .contains("injected")
        );
        assert_eq!(std::fs::read_to_string(&v4).unwrap(), "old v4");
        assert_eq!(
            names(dir.path()),
            ["rules"],
            "no temporaries or backups left"
        );
        // Without an old file, the first one is removed again.
        std::fs::remove_file(&v4).unwrap();
        let mut calls = 0;
        let r = write_all_with(&files, |temp, path| {
            calls += 1;
            if calls == 2 {
                return Err(std::io::Error::other("injected"));
            }
            temp.persist(path).map(|_| ()).map_err(|e| e.error)
        });
        assert!(r.is_err());
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn mode_is_kept_and_new_files_follow_the_umask() {
        let dir = tempdir();
        let p = dir.path().join("out.nft");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, Permissions::from_mode(0o640)).unwrap();
        write_output(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        let q = dir.path().join("fresh");
        write_output(&q, b"x").unwrap();
        let mode = std::fs::metadata(&q).unwrap().permissions().mode() & 0o777;
        // SAFETY: umask only reads and sets this process's mask; it is set back at once.
        let umask = unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m
        };
        assert_eq!(mode, 0o666 & !(umask as u32));
    }

    #[test]
    fn planted_temporaries_and_links_are_not_followed() {
        let dir = tempdir();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // The old predictable name, planted as a link to the victim: never used.
        let pid = std::process::id();
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".out.portplan-{pid}.tmp")))
            .unwrap();
        let out = dir.path().join("out");
        write_output(&out, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "report");
    }

    #[test]
    fn streams_and_refusals() {
        let dir = tempdir();
        assert_eq!(output_kind(Path::new("-")).unwrap(), OutputKind::Stdout);
        assert_eq!(
            output_kind(Path::new("/dev/null")).unwrap(),
            OutputKind::Stream("/dev/null".into())
        );
        assert!(output_kind(dir.path()).is_err());
        // A symbolic link is written through, not replaced.
        let target = dir.path().join("target");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_output(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // Parts to a stream follow one another.
        write_output_set(
            &link,
            &[("".into(), "v4\n".into()), (".v6".into(), "v6\n".into())],
            |s| format!("# {s}\n"),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "v4\n# .v6\nv6\n");
        assert_eq!(names(dir.path()), ["link", "target"]);
        // /dev/full reports its error.
        if Path::new("/dev/full").exists() {
            assert!(write_output(Path::new("/dev/full"), b"x").is_err());
        }
    }
}
