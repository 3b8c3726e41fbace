//! The shorthand flags of every output kind, made from the kinds' keys (`--eve`,
//! `--eve-types`, `--clickhouse`, `--cef-ca`, ...), so each is declared once.
use super::{Key, Kind, KINDS};
use clap::{Arg, ArgAction, ArgMatches, Command};

/// The output flags given on the command line, each checked by its key.
#[derive(Clone, Default)]
pub(crate) struct OutputFlags {
    pub(crate) given: Vec<(&'static Kind, &'static Key, Vec<String>)>,
}

impl OutputFlags {
    /// The flag's values, if it was given.
    pub(crate) fn get(&self, flag: &str) -> Option<&[String]> {
        self.given.iter().find(|(_, k, _)| k.flag == flag).map(|(_, _, v)| v.as_slice())
    }
}

impl clap::FromArgMatches for OutputFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Vec::new();
        for kind in KINDS {
            for key in kind.keys {
                if let Some(values) = m.get_many::<String>(key.flag) {
                    given.push((*kind, key, values.cloned().collect()));
                }
            }
        }
        Ok(OutputFlags { given })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for OutputFlags {
    fn augment_args(mut cmd: Command) -> Command {
        for kind in KINDS {
            for key in kind.keys {
                let mut arg = Arg::new(key.flag).long(key.flag).value_name(key.value_name).help(key.help);
                arg = if key.list { arg.action(ArgAction::Append).value_delimiter(',') } else { arg.action(ArgAction::Set) };
                if !key.late {
                    let check = key.check;
                    arg = arg.value_parser(move |text: &str| check(text).map(|()| text.trim().to_string()));
                }
                cmd = cmd.arg(arg);
            }
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
