//! Least privilege for the sensor: the capture handles are opened first; then, while the
//! process still has one thread (a uid or capability change applies to the calling
//! thread only, and every thread started later inherits it), it becomes `--user`, keeps
//! CAP_NET_RAW alone (to reopen a handle after a link flap) and sets no_new_privs.
use anyhow::{bail, Context};
use rustix::process::{Gid, Uid};
use rustix::thread::{self, CapabilitySet, CapabilitySets};

/// Who the sensor runs as, as the settings name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RunAs {
    pub(crate) user: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) allow_root: bool,
}

/// Drops to `run_as` (when root), keeping CAP_NET_RAW alone; called once the capture
/// handles are open and before any other thread exists. A sensor already started
/// unprivileged (systemd's `User=` with `AmbientCapabilities=CAP_NET_RAW`) only narrows
/// its capabilities.
pub(crate) fn drop_privileges(run_as: &RunAs) -> anyhow::Result<()> {
    let threads = std::fs::read_dir("/proc/self/task").map(Iterator::count).unwrap_or(1);
    if threads > 1 {
        bail!("internal: privileges must be dropped while the process has one thread ({threads} running)");
    }
    let root = rustix::process::geteuid().is_root();
    if refuses_root(run_as) {
        bail!("{REFUSE_ROOT}");
    }
    match (&run_as.user, root) {
        (Some(user), false) => {
            // Started as that user already (systemd's `User=`): nothing to switch.
            let (uid, _) = lookup_user(user)?;
            let me = rustix::process::getuid();
            if uid != me {
                bail!("--user {user}: switching user needs root; started as uid {}", me.as_raw());
            }
        }
        (Some(user), true) => {
            let (uid, primary) = lookup_user(user)?;
            let gid = match &run_as.group {
                Some(g) => lookup_group(g)?,
                None => primary,
            };
            // Keep the permitted set across the uid change, so CAP_NET_RAW survives it.
            thread::set_keep_capabilities(true).context("keeping capabilities across the user change")?;
            thread::set_thread_groups(&[]).context("clearing supplementary groups")?;
            thread::set_thread_res_gid(gid, gid, gid).with_context(|| format!("switching to gid {}", gid.as_raw()))?;
            thread::set_thread_res_uid(uid, uid, uid).with_context(|| format!("switching to user {user} (uid {})", uid.as_raw()))?;
            thread::set_keep_capabilities(false).context("resetting keep-capabilities")?;
        }
        (None, _) => {}
    }
    let keep = if root && run_as.user.is_none() {
        // --allow-root: nothing is narrowed but new privileges.
        None
    } else {
        Some(CapabilitySet::NET_RAW)
    };
    if let Some(keep) = keep {
        let now = thread::capabilities(None).context("reading capabilities")?;
        let keep = keep & now.permitted;
        thread::set_capabilities(None, CapabilitySets { effective: keep, permitted: keep, inheritable: CapabilitySet::empty() })
            .context("keeping CAP_NET_RAW alone")?;
        thread::clear_ambient_capability_set().context("clearing ambient capabilities")?;
    }
    thread::set_no_new_privs(true).context("setting no_new_privs")?;
    tracing::info!(uid = rustix::process::getuid().as_raw(), gid = rustix::process::getgid().as_raw(), "privileges dropped");
    Ok(())
}

const REFUSE_ROOT: &str = "refusing to run as root: give --user NAME (config key `user`), and the sensor drops to it once \
     the interfaces are open, keeping only CAP_NET_RAW; or --allow-root to stay root (a parser bug would then run with every \
     privilege)";

/// Started as root with neither a user to become nor leave to stay root.
fn refuses_root(run_as: &RunAs) -> bool {
    rustix::process::geteuid().is_root() && run_as.user.is_none() && !run_as.allow_root
}

/// What `--test-config` checks of `run_as` without changing anything: the refusal to
/// stay root, and that the user and group exist.
pub(crate) fn check(run_as: &RunAs) -> anyhow::Result<()> {
    if refuses_root(run_as) {
        bail!("the sensor would refuse to start: {REFUSE_ROOT}");
    }
    if let Some(user) = &run_as.user {
        lookup_user(user)?;
    }
    if let Some(group) = &run_as.group {
        lookup_group(group)?;
    }
    Ok(())
}

/// A user's uid and primary gid, by name or number (from /etc/passwd).
fn lookup_user(name: &str) -> anyhow::Result<(Uid, Gid)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    let found = passwd.lines().filter_map(|l| fields(l, 4)).find(|f| f[0] == name || f[2] == name);
    match found {
        Some(f) => Ok((Uid::from_raw(number(&f[2], "uid")?), Gid::from_raw(number(&f[3], "gid")?))),
        None => bail!("--user {name}: no such user in /etc/passwd"),
    }
}

/// A group's gid, by name or number (from /etc/group).
fn lookup_group(name: &str) -> anyhow::Result<Gid> {
    let group = std::fs::read_to_string("/etc/group").context("reading /etc/group")?;
    if let Some(f) = group.lines().filter_map(|l| fields(l, 3)).find(|f| f[0] == name || f[2] == name) {
        return Ok(Gid::from_raw(number(&f[2], "gid")?));
    }
    match name.parse() {
        Ok(n) => Ok(Gid::from_raw(n)),
        Err(_) => bail!("--group {name}: no such group in /etc/group"),
    }
}

/// The first `n` colon-separated fields of an /etc file's line.
fn fields(line: &str, n: usize) -> Option<Vec<String>> {
    let f: Vec<String> = line.split(':').take(n).map(str::to_string).collect();
    (f.len() == n && !line.starts_with('#')).then_some(f)
}

fn number(text: &str, what: &str) -> anyhow::Result<u32> {
    text.parse().with_context(|| format!("{what} {text:?} is not a number"))
}

/// Files the sensor creates keep others out: 0640 for logs (the umask), 0600 for the
/// spool (its own modes).
pub(crate) fn restrict_new_files() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o027));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_groups_by_name_or_number() {
        assert_eq!(lookup_user("root").unwrap(), (Uid::ROOT, Gid::ROOT));
        assert_eq!(lookup_user("0").unwrap().0, Uid::ROOT);
        assert!(lookup_user("no-such-user-here").unwrap_err().to_string().contains("no such user"));
        assert_eq!(lookup_group("root").unwrap(), Gid::ROOT);
        assert_eq!(lookup_group("4242").unwrap().as_raw(), 4242);
    }
}
