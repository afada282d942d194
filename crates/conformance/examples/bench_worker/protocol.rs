//! The line protocol between `scripts/bench` and its workers (this one and the Java API's
//! `BenchWorker`): one command per line on stdin, `mark <name>` lines and one answer on stdout.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

/// A command: a word, then `key=value` pairs.
pub struct Command {
    pub name: String,
    args: HashMap<String, String>,
}

impl Command {
    pub fn parse(line: &str) -> Result<Self> {
        let mut words = line.split_whitespace();
        let name = words.next().ok_or_else(|| anyhow!("empty command"))?.to_string();
        let args = words
            .map(|word| {
                word.split_once('=')
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .ok_or_else(|| anyhow!("'{word}' is not key=value"))
            })
            .collect::<Result<_>>()?;
        Ok(Self { name, args })
    }

    /// A required argument.
    pub fn get<T: FromStr>(&self, key: &str) -> Result<T>
    where
        T::Err: Display,
    {
        let text = self.args.get(key).ok_or_else(|| anyhow!("{}: missing {key}=", self.name))?;
        text.parse().map_err(|err| anyhow!("{}: {key}={text}: {err}", self.name))
    }

    /// An optional argument.
    pub fn get_or<T: FromStr>(&self, key: &str, default: T) -> Result<T>
    where
        T::Err: Display,
    {
        if self.args.contains_key(key) { self.get(key) } else { Ok(default) }
    }

    /// A duration given in milliseconds as `key`.
    pub fn millis(&self, key: &str) -> Result<Duration> {
        self.get::<u64>(key).map(Duration::from_millis).context("milliseconds")
    }
}

/// Tells the orchestrator to read the processes' CPU times and memory now.
pub fn mark(name: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout means the orchestrator is gone; the next read of stdin ends the worker.
    let _ = writeln!(out, "mark {name}");
    let _ = out.flush();
}

/// The `ok` answer's `key=value` pairs.
#[derive(Default)]
pub struct Reply(Vec<(String, String)>);

impl Reply {
    pub fn with(mut self, key: &str, value: impl Display) -> Self {
        self.0.push((key.to_string(), value.to_string()));
        self
    }

    pub fn print(&self) {
        let mut line = String::from("ok");
        for (key, value) in &self.0 {
            line.push_str(&format!(" {key}={value}"));
        }
        answer(&line);
    }
}

/// An `error` answer, on one line.
pub fn print_error(err: &anyhow::Error) {
    answer(&format!("error {}", format!("{err:#}").replace('\n', " ")));
}

fn answer(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
