//! A run that cannot start for a setting that cannot work (a bad flag value, a file a
//! setting names that is missing, wrong credentials, a cluster the server does not
//! know): one line saying what and where, exit 2.

#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
