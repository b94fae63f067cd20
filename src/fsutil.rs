//! Writing outputs atomically: all or nothing.

use std::path::{Path, PathBuf};

use crate::diag::{Error, Result};

/// Write every `(path, content)`: each goes to a temporary file beside its target first, and
/// only when all are written are they renamed into place. On any error the temporaries are
/// removed and no target is touched.
pub fn write_all_atomic<C: AsRef<[u8]>>(files: &[(PathBuf, C)]) -> Result<()> {
    let mut temps: Vec<(PathBuf, &Path)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, &Path)]| {
        for (t, _) in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for (path, content) in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.portplan-{}.tmp", std::process::id()));
        if let Err(e) = std::fs::write(&tmp, content) {
            cleanup(&temps);
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(path, e));
        }
        temps.push((tmp, path));
    }
    for (i, (tmp, path)) in temps.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&temps[i..]);
            return Err(Error::io(*path, e));
        }
    }
    Ok(())
}

/// Write one file atomically from bytes (for binary outputs such as XLSX).
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_all_atomic(&[(path.to_path_buf(), bytes)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_written_when_one_file_fails() {
        let dir = std::env::temp_dir().join(format!("portplan-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("a.txt");
        let bad = dir.join("missing-dir").join("b.txt");
        let r = write_all_atomic(&[(good.clone(), "x"), (bad, "y")]);
        assert!(r.is_err());
        assert!(!good.exists());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "no temporaries left"
        );
        write_all_atomic(&[(good.clone(), "x")]).unwrap();
        assert_eq!(std::fs::read_to_string(&good).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
