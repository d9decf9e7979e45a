//! A shell script as a list of commands: enough of the POSIX shell grammar to read the inline scripts people
//! write into project.toml (words and quotes, `$VAR` and `${VAR}`, assignments, redirections, heredocs,
//! pipelines, `&&` lists, comments, line continuations). Compound commands (`if`, `for`, `while`, `case`,
//! functions, subshells, `||` lists) are kept whole, as their source text, to be run as written.

use std::fmt::Write as _;
use std::ops::Range;

/// One part of a word after quote removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// A parameter: `$NAME`, `${NAME}`, `$1`, and `~` (as `HOME`).
    Var(String),
    /// Something only a shell can work out: `$(...)`, backticks, `${NAME:-x}` and friends, as written.
    Subst(String),
}

/// A word: its source text and its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// As written, quotes included.
    pub raw: String,
    /// After quote removal.
    pub parts: Vec<Part>,
    /// Where it is in the script.
    pub span: Range<usize>,
}

impl Word {
    /// The word's text when it is literal (no parameters or substitutions).
    #[must_use]
    pub(crate) fn literal(&self) -> Option<String> {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => text.push_str(lit),
                _ => return None,
            }
        }
        Some(text)
    }

    /// The parameters the word reads (`$NAME`), in order.
    #[must_use]
    pub(crate) fn vars(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// What a redirection does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RedirectOp {
    /// `>`: writes the file.
    Write,
    /// `>>`: appends to the file.
    Append,
    /// `<`: reads the file.
    Read,
    /// `>&`, `<&`, `&>`: duplicates a descriptor (or writes both streams to a file).
    Dup,
    /// `<<` / `<<-`: a heredoc, whose body is the target.
    Heredoc,
}

/// A redirection and its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// The descriptor written before the operator (`2>`).
    pub fd: Option<u32>,
    /// The operator.
    pub op: RedirectOp,
    /// The file (or the heredoc body, as a word whose parts are expanded unless the delimiter was quoted).
    pub target: Word,
}

/// A simple command: assignments, words and redirections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Simple {
    /// `NAME=value` before the command name.
    pub assignments: Vec<(String, Word)>,
    /// The command name and its arguments.
    pub words: Vec<Word>,
    /// Redirections, in order.
    pub redirects: Vec<Redirect>,
}

impl Simple {
    /// The command name when it is literal.
    #[must_use]
    pub(crate) fn name(&self) -> Option<String> {
        self.words.first().and_then(Word::literal)
    }
}

/// What a command is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// One simple command.
    Simple(Simple),
    /// `a | b | ...`.
    Pipeline(Vec<Simple>),
    /// Anything else, kept as its source text.
    Compound,
}

/// One command of the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Command {
    /// The line it starts on (1-based, in the inline script).
    pub line: usize,
    /// Where its text starts in the script (byte offset; word spans count from the script's start).
    pub offset: usize,
    /// Its source text, heredoc bodies included.
    pub text: String,
    /// What it is.
    pub body: Body,
}

/// A script, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Script {
    /// `#!...` when the script starts with one.
    pub shebang: Option<String>,
    /// The commands in order.
    pub commands: Vec<Command>,
}

/// The script cannot be read as shell.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {problem}")]
pub struct ParseError {
    /// Where.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    AndIf,
    OrIf,
    Semi,
    DSemi,
    Pipe,
    Amp,
    LParen,
    RParen,
    Redirect(Option<u32>, RedirectOp),
}

#[derive(Clone, Debug)]
enum Token {
    Word(Word),
    Op(Op, Range<usize>),
    Newline(usize),
}

impl Token {
    fn start(&self) -> usize {
        match self {
            Self::Word(w) => w.span.start,
            Self::Op(_, span) => span.start,
            Self::Newline(at) => *at,
        }
    }

    fn end(&self) -> usize {
        match self {
            Self::Word(w) => w.span.end,
            Self::Op(_, span) => span.end,
            Self::Newline(at) => *at + 1,
        }
    }
}

/// The tokens of a script, and the heredoc bodies by the index of their operator token.
type Lexed = (Vec<Token>, Vec<(usize, Word)>);

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// Heredocs whose bodies start after the next newline: (index of the operator token, delimiter, quoted, strip
    /// tabs).
    pending: Vec<(usize, String, bool, bool)>,
    /// Heredoc bodies by operator token index, with where their text ends.
    bodies: Vec<(usize, Word)>,
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn line_of(src: &str, at: usize) -> usize {
    src[..at.min(src.len())].matches('\n').count() + 1
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            tokens: Vec::new(),
            pending: Vec::new(),
            bodies: Vec::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(offset)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn error(&self, problem: impl Into<String>) -> ParseError {
        ParseError {
            line: line_of(self.src, self.pos),
            problem: problem.into(),
        }
    }

    fn run(mut self) -> Result<Lexed, ParseError> {
        loop {
            match self.peek() {
                None => break,
                Some(' ' | '\t' | '\r') => {
                    self.bump();
                }
                Some('\\') if self.peek_at(1) == Some('\n') => {
                    self.pos += 2;
                }
                Some('#') => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                Some('\n') => {
                    self.tokens.push(Token::Newline(self.pos));
                    self.pos += 1;
                    self.read_heredocs()?;
                }
                Some(c) if c.is_ascii_digit() && self.fd_redirect_ahead() => {
                    let start = self.pos;
                    let mut fd = 0u32;
                    while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                        fd = fd.saturating_mul(10).saturating_add(d);
                        self.bump();
                    }
                    self.operator(start, Some(fd))?;
                }
                Some(';' | '&' | '|' | '(' | ')' | '<' | '>') => {
                    let start = self.pos;
                    self.operator(start, None)?;
                }
                Some(_) => {
                    let word = self.word()?;
                    self.tokens.push(Token::Word(word));
                }
            }
        }
        if let Some((_, delim, _, _)) = self.pending.first() {
            return Err(self.error(format!("heredoc `{delim}` has no body")));
        }
        Ok((self.tokens, self.bodies))
    }

    fn fd_redirect_ahead(&self) -> bool {
        let rest = &self.src[self.pos..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        matches!(rest[digits..].chars().next(), Some('<' | '>'))
    }

    fn operator(&mut self, start: usize, fd: Option<u32>) -> Result<(), ParseError> {
        let rest = &self.src[self.pos..];
        let (op, len) = if rest.starts_with("&&") {
            (Op::AndIf, 2)
        } else if rest.starts_with("||") {
            (Op::OrIf, 2)
        } else if rest.starts_with(";;") {
            (Op::DSemi, 2)
        } else if rest.starts_with("&>>") {
            (Op::Redirect(fd, RedirectOp::Dup), 3)
        } else if rest.starts_with("&>") {
            (Op::Redirect(fd, RedirectOp::Dup), 2)
        } else if rest.starts_with("<<-") {
            (Op::Redirect(fd, RedirectOp::Heredoc), 3)
        } else if rest.starts_with("<<<") {
            // A here-string: its word is the input.
            (Op::Redirect(fd, RedirectOp::Read), 3)
        } else if rest.starts_with("<<") {
            (Op::Redirect(fd, RedirectOp::Heredoc), 2)
        } else if rest.starts_with(">>") {
            (Op::Redirect(fd, RedirectOp::Append), 2)
        } else if rest.starts_with(">&") || rest.starts_with("<&") {
            (Op::Redirect(fd, RedirectOp::Dup), 2)
        } else if rest.starts_with(">|") {
            (Op::Redirect(fd, RedirectOp::Write), 2)
        } else {
            match rest.chars().next() {
                Some(';') => (Op::Semi, 1),
                Some('&') => (Op::Amp, 1),
                Some('|') => (Op::Pipe, 1),
                Some('(') => (Op::LParen, 1),
                Some(')') => (Op::RParen, 1),
                Some('<') => (Op::Redirect(fd, RedirectOp::Read), 1),
                Some('>') => (Op::Redirect(fd, RedirectOp::Write), 1),
                _ => return Err(self.error("unexpected character")),
            }
        };
        let strip_tabs = rest.starts_with("<<-");
        self.pos += len;
        let is_heredoc = op == Op::Redirect(fd, RedirectOp::Heredoc);
        self.tokens.push(Token::Op(op, start..self.pos));
        if is_heredoc {
            while matches!(self.peek(), Some(' ' | '\t')) {
                self.bump();
            }
            let delim = self.word()?;
            let quoted = delim.raw.contains(['\'', '"', '\\']);
            let text = delim
                .literal()
                .ok_or_else(|| self.error("a heredoc delimiter must be a plain word"))?;
            self.pending
                .push((self.tokens.len() - 1, text, quoted, strip_tabs));
        }
        Ok(())
    }

    /// Reads the bodies of the heredocs started on the line that just ended.
    fn read_heredocs(&mut self) -> Result<(), ParseError> {
        for (index, delim, quoted, strip_tabs) in std::mem::take(&mut self.pending) {
            let start = self.pos;
            let mut body = String::new();
            let mut found = false;
            while self.pos < self.src.len() {
                let line_end = self.src[self.pos..]
                    .find('\n')
                    .map_or(self.src.len(), |i| self.pos + i);
                let mut line = &self.src[self.pos..line_end];
                if strip_tabs {
                    line = line.trim_start_matches('\t');
                }
                self.pos = (line_end + 1).min(self.src.len());
                if line == delim {
                    found = true;
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            if !found {
                return Err(ParseError {
                    line: line_of(self.src, start),
                    problem: format!("heredoc `{delim}` is not closed"),
                });
            }
            let parts = if quoted {
                vec![Part::Lit(body.clone())]
            } else {
                expand_heredoc(&body)
            };
            self.bodies.push((
                index,
                Word {
                    raw: body,
                    parts,
                    span: start..self.pos,
                },
            ));
        }
        Ok(())
    }

    fn word(&mut self) -> Result<Word, ParseError> {
        let start = self.pos;
        let mut parts = Vec::new();
        let mut lit = String::new();
        if self.peek() == Some('~')
            && matches!(self.peek_at(1), None | Some('/' | ' ' | '\t' | '\n' | ';'))
        {
            self.bump();
            parts.push(Part::Var("HOME".to_owned()));
        }
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => break,
                '\\' => {
                    self.bump();
                    match self.bump() {
                        Some('\n') | None => {}
                        Some(next) => lit.push(next),
                    }
                }
                '\'' => {
                    self.bump();
                    let Some(len) = self.src[self.pos..].find('\'') else {
                        return Err(self.error("a single quote is not closed"));
                    };
                    lit.push_str(&self.src[self.pos..self.pos + len]);
                    self.pos += len + 1;
                }
                '"' => {
                    self.bump();
                    self.double_quoted(&mut parts, &mut lit)?;
                }
                '$' => self.dollar(&mut parts, &mut lit)?,
                '`' => {
                    let text = self.backticks()?;
                    flush(&mut parts, &mut lit);
                    parts.push(Part::Subst(text));
                }
                _ => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
        flush(&mut parts, &mut lit);
        Ok(Word {
            raw: self.src[start..self.pos].to_owned(),
            parts,
            span: start..self.pos,
        })
    }

    fn double_quoted(&mut self, parts: &mut Vec<Part>, lit: &mut String) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                None => return Err(self.error("a double quote is not closed")),
                Some('"') => {
                    self.bump();
                    return Ok(());
                }
                Some('\\') => {
                    self.bump();
                    match self.bump() {
                        Some('\n') => {}
                        Some(c @ ('$' | '`' | '"' | '\\')) => lit.push(c),
                        Some(c) => {
                            lit.push('\\');
                            lit.push(c);
                        }
                        None => return Err(self.error("a double quote is not closed")),
                    }
                }
                Some('$') => self.dollar(parts, lit)?,
                Some('`') => {
                    let text = self.backticks()?;
                    flush(parts, lit);
                    parts.push(Part::Subst(text));
                }
                Some(c) => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
    }

    fn backticks(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.bump();
        let Some(len) = self.src[self.pos..].find('`') else {
            return Err(self.error("a backtick is not closed"));
        };
        self.pos += len + 1;
        Ok(self.src[start..self.pos].to_owned())
    }

    fn dollar(&mut self, parts: &mut Vec<Part>, lit: &mut String) -> Result<(), ParseError> {
        let start = self.pos;
        self.bump();
        match self.peek() {
            Some('(') => {
                let mut depth = 0usize;
                let mut quote: Option<char> = None;
                while let Some(c) = self.bump() {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (None, '\'' | '"') => quote = Some(c),
                        (None, '(') => depth += 1,
                        (None, ')') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if depth != 0 {
                    return Err(self.error("a `$(` is not closed"));
                }
                flush(parts, lit);
                parts.push(Part::Subst(self.src[start..self.pos].to_owned()));
            }
            Some('{') => {
                let Some(len) = self.src[self.pos..].find('}') else {
                    return Err(self.error("a `${` is not closed"));
                };
                let inner = &self.src[self.pos + 1..self.pos + len];
                self.pos += len + 1;
                flush(parts, lit);
                if is_name(inner) || inner.chars().all(|c| c.is_ascii_digit()) && !inner.is_empty()
                {
                    parts.push(Part::Var(inner.to_owned()));
                } else {
                    parts.push(Part::Subst(self.src[start..self.pos].to_owned()));
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let name_len = self.src[self.pos..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(self.src.len() - self.pos);
                let name = self.src[self.pos..self.pos + name_len].to_owned();
                self.pos += name_len;
                flush(parts, lit);
                parts.push(Part::Var(name));
            }
            Some(c @ ('0'..='9' | '@' | '*' | '#' | '?' | '$' | '!' | '-')) => {
                self.bump();
                flush(parts, lit);
                parts.push(Part::Var(c.to_string()));
            }
            _ => lit.push('$'),
        }
        Ok(())
    }
}

fn flush(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}

/// A heredoc body with an unquoted delimiter: parameters are expanded, quotes are kept as text.
fn expand_heredoc(body: &str) -> Vec<Part> {
    let mut lexer = Lexer::new(body);
    let mut parts = Vec::new();
    let mut lit = String::new();
    while let Some(c) = lexer.peek() {
        match c {
            '\\' if matches!(lexer.peek_at(1), Some('$' | '`' | '\\')) => {
                lexer.bump();
                if let Some(next) = lexer.bump() {
                    lit.push(next);
                }
            }
            '\\' if lexer.peek_at(1) == Some('\n') => {
                lexer.pos += 2;
            }
            '$' => {
                if lexer.dollar(&mut parts, &mut lit).is_err() {
                    lit.push_str(&body[lexer.pos..]);
                    break;
                }
            }
            _ => {
                lit.push(c);
                lexer.bump();
            }
        }
    }
    flush(&mut parts, &mut lit);
    parts
}

/// Compound openers and the closers they wait for.
fn closer_of(word: &str) -> Option<&'static str> {
    match word {
        "if" => Some("fi"),
        "for" | "while" | "until" | "select" => Some("done"),
        "case" => Some("esac"),
        "{" => Some("}"),
        _ => None,
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    bodies: Vec<(usize, Word)>,
    pos: usize,
}

impl Parser<'_> {
    fn at_separator(&self) -> bool {
        matches!(
            self.tokens.get(self.pos),
            None | Some(Token::Newline(_) | Token::Op(Op::Semi | Op::Amp | Op::DSemi, _))
        )
    }

    fn commands(&mut self) -> Result<Vec<Command>, ParseError> {
        let mut out = Vec::new();
        while self.pos < self.tokens.len() {
            if self.at_separator() {
                self.pos += 1;
                continue;
            }
            let start_token = self.pos;
            let start = self.tokens[self.pos].start();
            // An `a || b` list (or one with `&&` after `||`) is kept whole: its parts run conditionally.
            let list_end = self.list_end()?;
            let has_or = self.tokens[start_token..list_end]
                .iter()
                .any(|t| matches!(t, Token::Op(Op::OrIf, _)));
            if has_or || self.starts_compound(start_token) {
                let end = self.tokens[list_end - 1].end();
                out.push(self.command(start, end, Body::Compound));
                self.pos = list_end;
                continue;
            }
            // `a && b`: commands in sequence, each its own step.
            let mut piece_start = start_token;
            for index in start_token..=list_end {
                let at_end = index == list_end;
                if at_end || matches!(self.tokens[index], Token::Op(Op::AndIf, _)) {
                    if index > piece_start {
                        let body = self.pipeline(piece_start, index)?;
                        let start = self.tokens[piece_start].start();
                        let end = self.tokens[index - 1].end();
                        out.push(self.command(start, end, body));
                    }
                    piece_start = index + 1;
                }
            }
            self.pos = list_end;
        }
        Ok(out)
    }

    fn command(&self, start: usize, end: usize, body: Body) -> Command {
        let mut text = self.src[start..end].trim_end().to_owned();
        // Heredoc bodies belong to the command that opened them.
        let heredoc_end = self
            .bodies
            .iter()
            .filter(|(_, w)| w.span.start >= end)
            .filter(|(i, _)| {
                let at = self.tokens[*i].start();
                at >= start && at < end
            })
            .map(|(_, w)| w.span.end)
            .max();
        if let Some(heredoc_end) = heredoc_end {
            self.src[start..heredoc_end]
                .trim_end()
                .clone_into(&mut text);
        }
        Command {
            line: line_of(self.src, start),
            offset: start,
            text,
            body,
        }
    }

    fn starts_compound(&self, index: usize) -> bool {
        match &self.tokens[index] {
            Token::Op(Op::LParen, _) => true,
            Token::Word(w) => {
                let name = w.literal().unwrap_or_default();
                closer_of(&name).is_some()
                    || name == "function"
                    || matches!(self.tokens.get(index + 1), Some(Token::Op(Op::LParen, _)))
            }
            _ => false,
        }
    }

    /// The index after the end of the list starting at `self.pos`: the next separator outside compounds.
    fn list_end(&self) -> Result<usize, ParseError> {
        let mut stack: Vec<&'static str> = Vec::new();
        let mut index = self.pos;
        let mut command_position = true;
        let mut function_pending = false;
        while index < self.tokens.len() {
            let token = &self.tokens[index];
            let in_case = stack.last() == Some(&"esac");
            match token {
                Token::Newline(_) | Token::Op(Op::Semi | Op::Amp | Op::DSemi, _) => {
                    if stack.is_empty() && !function_pending {
                        return Ok(index);
                    }
                    command_position = true;
                }
                Token::Op(Op::AndIf | Op::OrIf | Op::Pipe, _) => command_position = true,
                Token::Op(Op::LParen, _) if !in_case => {
                    if command_position {
                        stack.push(")");
                    } else {
                        // `name()`: a function definition; its body follows.
                        function_pending = true;
                    }
                    command_position = true;
                }
                Token::Op(Op::RParen, _) if !in_case => {
                    if stack.last() == Some(&")") {
                        stack.pop();
                    }
                    // After `name()` the function's body comes, in command position.
                    command_position = function_pending;
                    if stack.is_empty() && !function_pending && self.ends_here(index + 1) {
                        return Ok(index + 1);
                    }
                }
                Token::Op(..) => command_position = false,
                Token::Word(w) => {
                    let name = w.literal().unwrap_or_default();
                    if command_position || (in_case && name == "esac") {
                        if let Some(closer) = closer_of(&name) {
                            stack.push(closer);
                            function_pending = false;
                        } else if stack.last() == Some(&name.as_str()) {
                            stack.pop();
                            if stack.is_empty() && self.ends_here(index + 1) {
                                return Ok(index + 1);
                            }
                        } else if name == "function" {
                            function_pending = true;
                        }
                    }
                    command_position = matches!(name.as_str(), "then" | "do" | "else" | "elif" | "{" | "in" if command_position)
                        || matches!(name.as_str(), "then" | "do" | "else" | "elif");
                }
            }
            index += 1;
        }
        if let Some(closer) = stack.last() {
            return Err(ParseError {
                line: line_of(self.src, self.src.len()),
                problem: format!("the script ends before `{closer}`"),
            });
        }
        Ok(index)
    }

    fn ends_here(&self, index: usize) -> bool {
        matches!(
            self.tokens.get(index),
            None | Some(
                Token::Newline(_) | Token::Op(Op::Semi | Op::Amp | Op::AndIf | Op::OrIf, _)
            )
        )
    }

    fn pipeline(&self, from: usize, to: usize) -> Result<Body, ParseError> {
        let mut simples = Vec::new();
        let mut piece = from;
        for index in from..=to {
            if index == to || matches!(self.tokens[index], Token::Op(Op::Pipe, _)) {
                simples.push(self.simple(piece, index)?);
                piece = index + 1;
            }
        }
        Ok(if simples.len() == 1 {
            Body::Simple(simples.remove(0))
        } else {
            Body::Pipeline(simples)
        })
    }

    fn simple(&self, from: usize, to: usize) -> Result<Simple, ParseError> {
        let mut simple = Simple::default();
        let mut index = from;
        while index < to {
            match &self.tokens[index] {
                Token::Word(word) => {
                    let assignment = simple
                        .words
                        .is_empty()
                        .then(|| split_assignment(word))
                        .flatten();
                    match assignment {
                        Some(pair) => simple.assignments.push(pair),
                        None => simple.words.push(word.clone()),
                    }
                }
                Token::Op(Op::Redirect(fd, op), span) => {
                    let target = if *op == RedirectOp::Heredoc {
                        index += 1; // the delimiter word
                        self.bodies
                            .iter()
                            .find(|(i, _)| *i == index - 1)
                            .map(|(_, w)| w.clone())
                    } else {
                        index += 1;
                        match self.tokens.get(index) {
                            Some(Token::Word(w)) if index < to => Some(w.clone()),
                            _ => None,
                        }
                    };
                    let Some(target) = target else {
                        return Err(ParseError {
                            line: line_of(self.src, span.start),
                            problem: "a redirection has no target".to_owned(),
                        });
                    };
                    simple.redirects.push(Redirect {
                        fd: *fd,
                        op: op.clone(),
                        target,
                    });
                }
                other => {
                    return Err(ParseError {
                        line: line_of(self.src, other.start()),
                        problem: "unexpected operator".to_owned(),
                    });
                }
            }
            index += 1;
        }
        Ok(simple)
    }
}

/// `NAME=value` → (NAME, value).
fn split_assignment(word: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first)) = word.parts.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    // The name must be written bare: `"A"=b` is a command.
    if !is_name(name) || !word.raw.starts_with(&format!("{name}=")) {
        return None;
    }
    let mut parts = Vec::new();
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_owned()));
    }
    parts.extend(word.parts[1..].iter().cloned());
    let offset = name.len() + 1;
    Some((
        name.to_owned(),
        Word {
            raw: word.raw[offset..].to_owned(),
            parts,
            span: word.span.start + offset..word.span.end,
        },
    ))
}

/// Reads `script`.
///
/// # Errors
/// [`ParseError`] when a quote, `$(`, heredoc or compound command is not closed.
pub(crate) fn parse(script: &str) -> Result<Script, ParseError> {
    // The shebang is a comment to the shell too; it is kept to say which shell the script was written for.
    let shebang = script.starts_with("#!").then(|| {
        script
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    });
    let (tokens, bodies) = Lexer::new(script).run()?;
    let mut parser = Parser {
        src: script,
        tokens,
        bodies,
        pos: 0,
    };
    let commands = parser.commands()?;
    Ok(Script { shebang, commands })
}

/// Shell-quotes `text` for a script (single quotes unless it is plainly safe).
#[cfg(test)]
#[must_use]
pub(crate) fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        return text.to_owned();
    }
    let mut out = String::from("'");
    for c in text.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The parts as shell text that expands the same (for messages and comments).
#[must_use]
pub(crate) fn parts_text(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Lit(lit) => out.push_str(lit),
            Part::Var(name) => {
                let _ = write!(out, "${{{name}}}");
            }
            Part::Subst(text) => out.push_str(text),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Lit(s.to_owned())
    }

    fn var(s: &str) -> Part {
        Part::Var(s.to_owned())
    }

    fn simple(command: &Command) -> &Simple {
        match &command.body {
            Body::Simple(s) => s,
            other => panic!("not simple: {other:?}"),
        }
    }

    #[test]
    fn words_quotes_and_parameters() {
        let script = parse(r#"cp "$HOME/.local/bin/uv" '$x' a\ b ~/y ${Z}z"#).unwrap();
        let words: Vec<_> = simple(&script.commands[0])
            .words
            .iter()
            .map(|w| w.parts.clone())
            .collect();
        assert_eq!(
            words,
            vec![
                vec![lit("cp")],
                vec![var("HOME"), lit("/.local/bin/uv")],
                vec![lit("$x")],
                vec![lit("a b")],
                vec![var("HOME"), lit("/y")],
                vec![var("Z"), lit("z")],
            ]
        );
    }

    #[test]
    fn assignments_lists_and_lines() {
        let script = parse(
            "#!/bin/bash\nset -e\nA=1 B=\"$A/x\" uv sync && echo done\n\nexport C=2; echo $C\n",
        )
        .unwrap();
        assert_eq!(script.shebang.as_deref(), Some("#!/bin/bash"));
        let texts: Vec<_> = script
            .commands
            .iter()
            .map(|c| (c.line, c.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            vec![
                (2, "set -e"),
                (3, "A=1 B=\"$A/x\" uv sync"),
                (3, "echo done"),
                (5, "export C=2"),
                (5, "echo $C"),
            ]
        );
        let sync = simple(&script.commands[1]);
        assert_eq!(sync.assignments[0].0, "A");
        assert_eq!(sync.assignments[1].1.parts, vec![var("A"), lit("/x")]);
        assert_eq!(sync.name().as_deref(), Some("uv"));
    }

    #[test]
    fn pipelines_and_redirects() {
        let script =
            parse("curl -LsSf https://example.test/uv/install.sh | sh\necho hi > \"$L/f\" 2>&1\n")
                .unwrap();
        let Body::Pipeline(parts) = &script.commands[0].body else {
            panic!("{:?}", script.commands[0]);
        };
        assert_eq!(parts[1].name().as_deref(), Some("sh"));
        let echo = simple(&script.commands[1]);
        assert_eq!(echo.redirects[0].op, RedirectOp::Write);
        assert_eq!(echo.redirects[0].target.parts, vec![var("L"), lit("/f")]);
        assert_eq!(echo.redirects[1].op, RedirectOp::Dup);
        assert_eq!(echo.redirects[1].fd, Some(2));
    }

    #[test]
    fn heredocs_expand_unless_quoted() {
        let script = parse("cat > \"$D/launch.toml\" <<EOF\ncommand = \"$venv/bin/x\"\n[[processes]]\nEOF\ncat > f <<'X'\n$y\nX\necho after\n").unwrap();
        assert_eq!(script.commands.len(), 3);
        let first = simple(&script.commands[0]);
        assert_eq!(
            first.redirects[1].target.parts,
            vec![
                lit("command = \""),
                var("venv"),
                lit("/bin/x\"\n[[processes]]\n")
            ]
        );
        assert!(script.commands[0].text.ends_with("[[processes]]\nEOF"));
        assert_eq!(
            simple(&script.commands[1]).redirects[1].target.parts,
            vec![lit("$y\n")]
        );
        assert_eq!(script.commands[2].line, 8);
    }

    #[test]
    fn compounds_and_or_lists_stay_whole() {
        let text = "if [ -f a ]; then\n  echo a\nfi\nfor x in 1 2; do echo $x; done\nf() { echo; }\ntest -f x || touch x\n( cd sub && make )\ncase $1 in a) echo a;; esac\necho last\n";
        let script = parse(text).unwrap();
        let got: Vec<_> = script
            .commands
            .iter()
            .map(|c| (c.text.as_str(), matches!(c.body, Body::Compound)))
            .collect();
        assert_eq!(
            got,
            vec![
                ("if [ -f a ]; then\n  echo a\nfi", true),
                ("for x in 1 2; do echo $x; done", true),
                ("f() { echo; }", true),
                ("test -f x || touch x", true),
                ("( cd sub && make )", true),
                ("case $1 in a) echo a;; esac", true),
                ("echo last", false),
            ]
        );
    }

    #[test]
    fn continuations_and_comments() {
        let script =
            parse("pip install \\\n  -r requirements.txt # the deps\n# a comment\n").unwrap();
        assert_eq!(script.commands.len(), 1);
        let words: Vec<_> = simple(&script.commands[0])
            .words
            .iter()
            .filter_map(Word::literal)
            .collect();
        assert_eq!(words, ["pip", "install", "-r", "requirements.txt"]);
    }

    #[test]
    fn unclosed_things_are_errors_with_a_line() {
        assert_eq!(
            parse("echo 'a\n").unwrap_err().problem,
            "a single quote is not closed"
        );
        assert_eq!(parse("\ncat <<EOF\nx\n").unwrap_err().line, 3);
        assert!(
            parse("if true; then\necho\n")
                .unwrap_err()
                .problem
                .contains("fi")
        );
    }

    #[test]
    fn quoting_round_trips_through_a_shell_word() {
        assert_eq!(quote("a b'c"), "'a b'\\''c'");
        assert_eq!(quote("--no-dev"), "--no-dev");
        let script = parse(&format!("x {}", quote("a b'c"))).unwrap();
        let word = &simple(&script.commands[0]).words[1];
        assert_eq!(word.literal().as_deref(), Some("a b'c"));
    }
}
