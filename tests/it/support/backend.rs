//! One database per contract test, on either backend, and the `stories!`
//! macro that runs a story (a generic async fn taking `&Backend`) once on
//! SQLite (a temp file) and once on PostgreSQL (a throwaway cluster).

use hanbao::store::{self, Store};

use super::pg;

/// A database for one test: where it is, and how to (re)open it.
pub struct Backend {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        Backend {
            // A directory that does not exist yet: open must create it.
            url: format!("sqlite://{}/state/hanbao.db", dir.path().display()),
            _dir: Some(dir),
        }
    }

    pub fn postgres() -> Backend {
        Backend {
            url: pg::fresh_database(),
            _dir: None,
        }
    }

    pub async fn open(&self) -> Store {
        store::open(&self.url).await.unwrap()
    }
}

/// `stories!(a, b)` generates `a::sqlite`, `a::postgres`, `b::sqlite`, ...
/// each calling the story `a(&Backend)` of the invoking module.
macro_rules! stories {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use $crate::support::backend::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(&Backend::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name(&Backend::postgres()).await;
            }
        }
    )*};
}
pub(crate) use stories;
