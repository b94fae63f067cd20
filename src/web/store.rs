//! The site files opened in this session, in memory only: at most [`MAX_SITES`], the oldest
//! forgotten first. A file's id is a hash of its text, so the same text is the same URL, and
//! its check-and-plan result is computed once ([`Doc::loaded`]).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use crate::app::{Context, Loaded};
use crate::diag::{Error, SourceFile};

/// How many site texts a session keeps.
pub const MAX_SITES: usize = 64;

/// One opened site text.
pub struct Doc {
    /// File name to show (and to name errors by).
    pub name: String,
    /// The text.
    pub text: Arc<str>,
    loaded: OnceLock<std::result::Result<Loaded, Error>>,
}

impl Doc {
    /// A document outside the store (the editor's live check).
    pub fn detached(name: String, text: Arc<str>) -> Doc {
        Doc {
            name,
            text,
            loaded: OnceLock::new(),
        }
    }

    /// The source file.
    pub fn source(&self) -> SourceFile {
        SourceFile::new(self.name.clone(), self.text.clone())
    }

    /// Checked and planned (once), or the CLI's error.
    pub fn loaded(&self, ctx: &Context) -> std::result::Result<&Loaded, &Error> {
        self.loaded.get_or_init(|| ctx.load(self.source())).as_ref()
    }
}

/// The session's site texts.
#[derive(Default)]
pub struct Sites {
    docs: Mutex<Vec<(String, Arc<Doc>)>>,
}

/// The id of a text.
pub fn id_of(name: &str, text: &str) -> String {
    let mut h = DefaultHasher::new();
    name.hash(&mut h);
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

impl Sites {
    /// An empty store.
    pub fn new() -> Sites {
        Sites::default()
    }

    /// Keep a text; returns its id.
    pub fn put(&self, name: String, text: Arc<str>) -> String {
        let id = id_of(&name, &text);
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = docs.iter().position(|(k, _)| *k == id) {
            let d = docs.remove(i);
            docs.push(d);
        } else {
            if docs.len() >= MAX_SITES {
                docs.remove(0);
            }
            docs.push((
                id.clone(),
                Arc::new(Doc {
                    name,
                    text,
                    loaded: OnceLock::new(),
                }),
            ));
        }
        id
    }

    /// The text with this id.
    pub fn get(&self, id: &str) -> Option<Arc<Doc>> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        docs.iter().find(|(k, _)| k == id).map(|(_, d)| d.clone())
    }

    /// Ids and names, newest first.
    pub fn list(&self) -> Vec<(String, String)> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        docs.iter()
            .rev()
            .map(|(k, d)| (k.clone(), d.name.clone()))
            .collect()
    }
}
