//! Reading a prompt: recognizers run over the tokens in a fixed order, each taking the tokens it
//! understands (so a later one cannot read them again) and leaving an item (a condition, an
//! action or a marker such as "otherwise" or "except") at the position where it was found.
//! `assemble.rs` then turns the items of each sentence into rules.
//!
//! The order matters: schedules, time windows and markers first (their words would otherwise
//! read as events or comparisons), then URLs, waits and the triggers a "when" introduces, then
//! the actions with their arguments (teams, addresses), then the triggers left implicit, then
//! conditions over whatever remains.

use crate::InterpretContext;
use crate::lexicon::{Entity, Lexicon, number_word};
use crate::plan::{Act, Cond};
use crate::time::{self, Schedule};
use crate::token::{Kind, Token, tokenize};

/// Something found in the prompt, at a token position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub at: usize,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum What {
    Cond(Cond),
    Act(Act),
    Mark(Mark),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    /// "otherwise", "all others", "everything else", "anything higher".
    Else,
    /// "if it doesn't arrive", "if it isn't", "if they haven't": a wait (or approval) timed
    /// out. `waited` is the thing the clause names when it is something to wait for ("if
    /// payment isn't received within 24 hours"), with the time it gives.
    NotArrived {
        waited: Option<String>,
        within: Option<u64>,
    },
    /// "if rejected".
    Rejected,
    /// "if approved", "once approved".
    Approved,
    /// "except", "unless": the conditions after it, up to the end of the clause, exempt.
    Except,
    /// "only": what is not allowed is blocked.
    Only,
    Or,
    And,
    Comma,
    /// "big", "suspicious": a size or quality with no threshold given.
    Vague(String),
}

/// Token ranges a recognizer takes.
type Spans = Vec<(usize, usize)>;

/// An event found in the prompt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventHit {
    pub at: usize,
    pub event: String,
    pub entity: String,
    /// Introduced by "when", "whenever", "once", "after", "if".
    pub explicit: bool,
}

pub(crate) struct Parser<'a> {
    pub t: Vec<Token>,
    pub used: Vec<bool>,
    /// The sentence of each token.
    pub sent: Vec<usize>,
    pub lex: &'a Lexicon,
    pub ctx: &'a InterpretContext,
    pub items: Vec<Item>,
    pub questions: Vec<String>,
    /// Entity nouns by position, whatever took the token.
    pub mentions: Vec<(usize, String)>,
    pub schedule: Option<Schedule>,
    pub events: Vec<EventHit>,
    /// A "when …" clause named no event this catalogue knows.
    pub vague_when: bool,
    /// The entity the rules are about, fixed once actions and triggers took their words (the
    /// conditions then take entity nouns too, as in "the order total").
    pub primary: Option<Option<String>>,
}

/// Words that end a team name, a title or a subject.
pub(crate) const STOP: &[&str] = &[
    "when",
    "whenever",
    "if",
    "for",
    "on",
    "about",
    "and",
    "or",
    "with",
    "to",
    "that",
    "who",
    "which",
    "once",
    "as",
    "at",
    "in",
    "of",
    "via",
    "by",
    "after",
    "before",
    "but",
    "unless",
    "except",
    "within",
    "immediately",
    "then",
    "so",
    "because",
    "whose",
    "every",
    "each",
    "is",
    "are",
    "was",
    "be",
    "should",
    "must",
    "needs",
    "need",
    "will",
    "can",
    "it",
    "them",
    "they",
    "this",
    "these",
    "those",
    "any",
    "all",
    "over",
    "under",
    "above",
    "below",
    "more",
    "less",
    "than",
    "between",
    "from",
    "into",
    "where",
    "whom",
    "also",
    "too",
    "right",
    "asap",
    "now",
    "automatically",
    "please",
    "otherwise",
    "else",
    "if",
    "using",
    "through",
    "up",
    "due",
    "immediately",
    "straight",
    "away",
    "their",
    "its",
    "know",
];

pub(crate) const DETERMINERS: &[&str] = &[
    "the", "a", "an", "our", "my", "your", "their", "its", "this", "that", "any", "all", "every",
    "each", "some",
];

/// Verbs that start an action: an argument list stops before them.
pub(crate) const ACTION_VERBS: &[&str] = &[
    "block", "reject", "decline", "deny", "allow", "accept", "approve", "notify", "alert", "tell",
    "inform", "ping", "message", "email", "e-mail", "send", "post", "call", "hit", "create",
    "open", "add", "assign", "mark", "tag", "set", "cancel", "wait", "export", "require", "hold",
    "flag", "stop", "update", "move", "close", "log", "escalate", "let", "give", "put", "warn",
    "page", "refund", "route", "forward", "schedule", "remind", "text", "sms",
];

pub(crate) const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "don't",
    "dont",
    "doesn't",
    "doesnt",
    "isn't",
    "isnt",
    "hasn't",
    "hasnt",
    "haven't",
    "havent",
    "didn't",
    "didnt",
    "wasn't",
    "wasnt",
    "aren't",
    "arent",
    "won't",
    "wont",
    "can't",
    "cant",
    "cannot",
    "shouldn't",
    "mustn't",
    "nobody",
    "nothing",
    "weren't",
    "without",
];

/// Words that carry no meaning of their own for coverage.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "to",
    "of",
    "for",
    "and",
    "or",
    "is",
    "are",
    "be",
    "been",
    "being",
    "it",
    "its",
    "that",
    "this",
    "with",
    "from",
    "in",
    "on",
    "at",
    "by",
    "as",
    "any",
    "all",
    "every",
    "each",
    "should",
    "must",
    "will",
    "can",
    "please",
    "then",
    "also",
    "them",
    "they",
    "their",
    "who",
    "which",
    "whose",
    "when",
    "whenever",
    "if",
    "so",
    "has",
    "have",
    "had",
    "do",
    "does",
    "get",
    "gets",
    "our",
    "my",
    "your",
    "we",
    "i",
    "you",
    "just",
    "some",
    "make",
    "sure",
    "always",
    "automatically",
    "there",
    "up",
    "into",
    "via",
    "too",
    "where",
    "let",
];

impl<'a> Parser<'a> {
    pub fn new(prompt: &str, lex: &'a Lexicon, ctx: &'a InterpretContext) -> Self {
        let t = tokenize(prompt);
        let mut sent = Vec::with_capacity(t.len());
        let mut s = 0;
        for tok in &t {
            sent.push(s);
            if tok.kind == Kind::Punct && matches!(tok.raw.as_str(), "." | ";" | "!" | "?" | "\n") {
                s += 1;
            }
        }
        let n = t.len();
        Parser {
            t,
            used: vec![false; n],
            sent,
            lex,
            ctx,
            items: Vec::new(),
            questions: Vec::new(),
            mentions: Vec::new(),
            schedule: None,
            events: Vec::new(),
            vague_when: false,
            primary: None,
        }
    }

    pub fn run(&mut self) {
        self.find_mentions();
        let mut used = self.used.clone();
        if let Some(s) = time::schedule(&self.t, &mut used)
            && s.recurring
        {
            self.used = used;
            self.schedule = Some(s);
        }
        self.time_windows();
        self.markers();
        self.urls();
        self.waits();
        self.triggers(true);
        self.actions();
        self.triggers(false);
        self.primary = Some(self.primary_entity());
        self.conditions();
        self.connectives();
    }

    // -----------------------------------------------------------------------------------------
    // Token helpers

    pub fn len(&self) -> usize {
        self.t.len()
    }

    pub fn low(&self, i: usize) -> &str {
        self.t.get(i).map_or("", |t| t.low.as_str())
    }

    pub fn free(&self, i: usize) -> bool {
        i < self.t.len() && !self.used[i]
    }

    /// The lowercase word at `i` when it is a free word, else "".
    pub fn word(&self, i: usize) -> &str {
        match self.t.get(i) {
            Some(t) if !self.used[i] && t.kind == Kind::Word => t.low.as_str(),
            _ => "",
        }
    }

    pub fn take(&mut self, a: usize, b: usize) {
        let b = b.min(self.used.len());
        for u in self.used.iter_mut().take(b).skip(a) {
            *u = true;
        }
    }

    pub fn push(&mut self, at: usize, what: What) {
        self.items.push(Item { at, what });
    }

    pub fn ask(&mut self, q: impl Into<String>) {
        let q = q.into();
        if !self.questions.contains(&q) {
            self.questions.push(q);
        }
    }

    pub fn is_punct(&self, i: usize) -> bool {
        self.t.get(i).is_some_and(|t| t.kind == Kind::Punct)
    }

    /// Whether `i` is punctuation that ends a clause (not a parenthesis or a quote).
    pub fn clause_end(&self, i: usize) -> bool {
        self.t.get(i).is_some_and(|t| {
            t.kind == Kind::Punct
                && matches!(t.raw.as_str(), "," | ";" | "." | "!" | "?" | ":" | "\n")
        })
    }

    /// Whether `i` ends a clause: punctuation or the end.
    pub fn boundary(&self, i: usize) -> bool {
        i >= self.t.len() || self.is_punct(i)
    }

    /// Matches a pattern of free tokens at `i`: words separated by spaces, alternatives with
    /// `|`, an optional word prefixed with `?`. Returns how many tokens it took.
    pub fn at(&self, i: usize, pat: &str) -> Option<usize> {
        let mut j = i;
        for el in pat.split(' ') {
            let (optional, el) = match el.strip_prefix('?') {
                Some(e) => (true, e),
                None => (false, el),
            };
            let ok = self.free(j) && el.split('|').any(|alt| self.t[j].low == alt);
            if ok {
                j += 1;
            } else if !optional {
                return None;
            }
        }
        (j > i).then_some(j - i)
    }

    /// The first of `pats` matching at `i`, longest first.
    pub fn at_any(&self, i: usize, pats: &[&str]) -> Option<usize> {
        pats.iter().filter_map(|p| self.at(i, p)).max()
    }

    /// The last token of the sentence holding `i`, plus one.
    pub fn sentence_end(&self, i: usize) -> usize {
        let s = self.sent.get(i).copied().unwrap_or(usize::MAX);
        (i..self.t.len())
            .find(|k| self.sent[*k] != s)
            .unwrap_or(self.t.len())
    }

    pub fn sentence_start(&self, i: usize) -> usize {
        let s = self.sent.get(i).copied().unwrap_or(0);
        (0..=i.min(self.t.len().saturating_sub(1)))
            .rev()
            .take_while(|k| self.sent[*k] == s)
            .last()
            .unwrap_or(i)
    }

    /// A number at `i` (a number token or a number word): its value and flags.
    pub fn number(&self, i: usize) -> Option<crate::token::Num> {
        let t = self.t.get(i).filter(|_| self.free(i))?;
        match (t.kind, t.num) {
            (Kind::Number, Some(n)) if !n.ordinal => Some(n),
            (Kind::Word, _) if !matches!(t.low.as_str(), "a" | "an" | "one") => number_word(&t.low)
                .map(|value| crate::token::Num {
                    value,
                    money: false,
                    percent: false,
                    plus: false,
                    ordinal: false,
                }),
            _ => None,
        }
    }

    /// The entity a noun at `i` names (plural and possessive forms included).
    pub fn entity_noun(&self, i: usize) -> Option<&'a Entity> {
        let t = self.t.get(i)?;
        if t.kind != Kind::Word {
            return None;
        }
        let stem = t.stem();
        self.lex
            .entities
            .iter()
            .find(|e| e.nouns.iter().any(|n| n == stem))
    }

    /// The entity mentioned last before `i` (any token).
    pub fn entity_before(&self, i: usize) -> Option<String> {
        self.mentions
            .iter()
            .rev()
            .find(|(at, _)| *at < i)
            .map(|(_, e)| e.clone())
    }

    /// Whether an entity is part of the prompt: the trigger's, or mentioned.
    pub fn in_play(&self, entity: &str) -> bool {
        self.mentions.iter().any(|(_, e)| e == entity)
            || self.events.iter().any(|e| e.entity == entity)
    }

    fn find_mentions(&mut self) {
        for i in 0..self.t.len() {
            // "account manager", "customer success": a noun inside a team's name is no mention.
            if let Some(e) = self.entity_noun(i) {
                let next = self.low(i + 1);
                let part_of_name = matches!(
                    next,
                    "manager"
                        | "managers"
                        | "success"
                        | "owner"
                        | "owners"
                        | "executive"
                        | "executives"
                        | "rep"
                        | "reps"
                        | "support"
                        | "service"
                        | "care"
                );
                if !part_of_name {
                    self.mentions.push((i, e.name.clone()));
                }
            }
        }
    }

    /// The share of meaningful tokens some recognizer took.
    pub fn coverage(&self) -> f64 {
        let mut total = 0usize;
        let mut taken = 0usize;
        for (i, t) in self.t.iter().enumerate() {
            if t.kind == Kind::Punct || (t.kind == Kind::Word && FILLER.contains(&t.low.as_str())) {
                continue;
            }
            total += 1;
            if self.used[i] || self.mentions.iter().any(|(at, _)| *at == i) {
                taken += 1;
            }
        }
        if total == 0 {
            0.0
        } else {
            taken as f64 / total as f64
        }
    }

    // -----------------------------------------------------------------------------------------
    // Time windows: "new customers", "signed up in the last 7 days", "first-time buyers"

    fn time_windows(&mut self) {
        let customer_nouns = [
            "customer",
            "customers",
            "account",
            "accounts",
            "buyer",
            "buyers",
            "shopper",
            "shoppers",
            "user",
            "users",
            "signups",
            "signup",
            "client",
            "clients",
            "members",
            "member",
        ];
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            // "who signed up in the last 7 days", "created within the past month".
            let mut j = i;
            let verb = self.at_any(
                j,
                &[
                    "?who|?that signed up",
                    "?who|?that registered",
                    "?who|?that joined",
                    "?who|?that were|was created",
                    "?who|?that created ?their|?an account",
                    "?who|?that became ?a customer|customers",
                    "?who|?that have|has been ?a customer|customers",
                ],
            );
            if let Some(v) = verb {
                j += v;
            }
            let entity = if verb.is_some() {
                "customer".to_owned()
            } else {
                self.entity_before(i + 1)
                    .unwrap_or_else(|| "customer".into())
            };
            let field = format!("{entity}.created_at");
            if let Some(k) = self.at_any(
                j,
                &["in|within|during|over ?the last|past|previous", "this past"],
            ) && self.low(j + k - 1) != "in"
                && self.low(j + k - 1) != "within"
            {
                let start = j + k;
                let (secs, len) = match time::duration_at(&self.t, start) {
                    Some(d) => d,
                    // "in the last week", "in the past month"
                    None => match self.low(start) {
                        "week" => (7 * 86_400, 1),
                        "month" => (30 * 86_400, 1),
                        "day" | "24" => (86_400, 1),
                        "year" => (365 * 86_400, 1),
                        "hour" => (3_600, 1),
                        _ => {
                            i += 1;
                            continue;
                        }
                    },
                };
                let cond = Cond::cmp(field, "within_last", time::format_duration(secs).into());
                self.take(i, start + len);
                self.push(i, What::Cond(cond));
                i = start + len;
                continue;
            }
            // "(created) less than 14 days ago", "more than 90 days ago", "less than 2 weeks
            // old", "older than 90 days".
            let cmp = self.at_any(
                j,
                &[
                    "less|fewer than",
                    "under",
                    "within",
                    "younger|newer than",
                    "more than",
                    "over",
                    "older than",
                    "at least",
                ],
            );
            if let Some(k) = cmp
                && let Some((secs, len)) = time::duration_at(&self.t, j + k)
            {
                let after = j + k + len;
                let tail = self.at_any(after, &["ago", "old"]);
                let older_than = self.low(j) == "older";
                if tail.is_some() || older_than || verb.is_some() {
                    let recent = matches!(
                        self.low(j),
                        "less" | "fewer" | "under" | "within" | "younger" | "newer"
                    );
                    let op = if recent {
                        "within_last"
                    } else {
                        "not_within_last"
                    };
                    let cond = Cond::cmp(field, op, time::format_duration(secs).into());
                    let end = after + tail.unwrap_or(0);
                    self.take(i, end);
                    self.push(i, What::Cond(cond));
                    i = end;
                    continue;
                }
            }
            // "new customers" (not "a new customer signs up", which is the event).
            if matches!(self.low(i), "new" | "recent" | "newly-registered" | "newly")
                && customer_nouns.contains(&self.low(i + 1))
            {
                let next = i + 2;
                let signs_up = self
                    .at_any(
                        next,
                        &[
                            "signs|sign up",
                            "registers|register",
                            "joins|join",
                            "is created",
                            "creates ?an account",
                            "signed up",
                            "registered",
                        ],
                    )
                    .is_some();
                if !signs_up {
                    let cond = Cond::cmp("customer.created_at", "within_last", "30d".into());
                    self.take(i, i + 1);
                    self.push(i, What::Cond(cond));
                    i += 2;
                    continue;
                }
            }
            // "first-time buyers", "first order", "returning customers".
            let first = self.at_any(
                i,
                &[
                    "first-time",
                    "first time",
                    "first-time-buyer",
                    "first order",
                    "first purchase",
                    "first-ever order",
                ],
            );
            if let Some(k) = first {
                let cond = Cond::cmp("customer.orders_count", "eq", 0.into());
                self.take(i, i + k);
                self.push(i, What::Cond(cond));
                i += k;
                continue;
            }
            if matches!(self.low(i), "returning" | "repeat" | "existing")
                && customer_nouns.contains(&self.low(i + 1))
            {
                let cond = Cond::cmp("customer.orders_count", "gt", 0.into());
                self.take(i, i + 1);
                self.push(i, What::Cond(cond));
                i += 2;
                continue;
            }
            i += 1;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Markers

    fn markers(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            let w = self.low(i).to_owned();
            // "if it doesn't arrive", "if it's not won by then", "if payment isn't received
            // within 24 hours", "if nobody approves": a wait or approval running out.
            if w == "if" || w == "in" && self.low(i + 1) == "case" {
                let start = if w == "in" { i + 2 } else { i + 1 };
                if let Some((mark, end)) = self.outcome_clause(start) {
                    self.take(i, end);
                    self.push(i, What::Mark(mark));
                    i = end;
                    continue;
                }
            }
            let else_pats = [
                "otherwise",
                "or else",
                "if not",
                "all others",
                "all other",
                "everything else",
                "anything else",
                "everyone else",
                "anyone else",
                "all the rest",
                "the rest",
                "the others",
                "any others",
                "everything|anything|anyone|everyone higher|above|more|over|larger|bigger|greater|beyond",
                "everything|anything|anyone|everyone lower|below|less|under|smaller|cheaper",
                "?ones|?those above|over|beyond|higher|below|under|lower ?than that|this|it",
                "else",
            ];
            if let Some(k) = self.at_any(i, &else_pats) {
                self.take(i, i + k);
                self.push(i, What::Mark(Mark::Else));
                i += k;
                continue;
            }
            let except = self.at_any(
                i,
                &[
                    "except ?for",
                    "unless",
                    "excluding",
                    "but not",
                    "apart from",
                    "with the exception of",
                ],
            );
            if let Some(k) = except {
                self.take(i, i + k);
                self.push(i, What::Mark(Mark::Except));
                i += k;
                continue;
            }
            if let Some(k) = self.at_any(
                i,
                &[
                    "once|when|after|if ?it|?it's|?they|?its ?is|?are|?gets|?get|?has|?been approved",
                    "on approval",
                    "after approval",
                ],
            ) && self.low(i + k - 1).starts_with("approv")
            {
                self.take(i, i + k);
                self.push(i, What::Mark(Mark::Approved));
                i += k;
                continue;
            }
            if w == "only" {
                self.take(i, i + 1);
                self.push(i, What::Mark(Mark::Only));
                i += 1;
                continue;
            }
            if matches!(w.as_str(), "then" | "also" | "additionally") {
                self.take(i, i + 1);
                i += 1;
                continue;
            }
            i += 1;
        }
    }

    /// After "if": a clause saying something did not happen or was refused, up to the clause
    /// end. Conditions on the entity ("if the customer is not gold") are not outcomes: the
    /// subject must be a pronoun or something one waits for.
    fn outcome_clause(&self, start: usize) -> Option<(Mark, usize)> {
        let subjects = [
            "it", "it's", "its", "they", "they're", "he", "she", "nobody", "no", "there",
            "there's", "that", "this", "payment", "the", "approval", "finance", "we",
        ];
        let first = self.low(start);
        if !self.free(start) || !subjects.contains(&first) {
            // "if rejected", "if declined", "if not approved".
            return match first {
                "rejected" | "declined" | "denied" => Some((Mark::Rejected, start + 1)),
                _ => None,
            };
        }
        let mut end = start;
        let mut negative = false;
        // Where the negation is: right after its subject ("it doesn't", "the payment isn't"),
        // not further on in a condition ("the order total exceeds 1000 and … is not gold").
        let mut negation_at = None;
        let mut rejected = false;
        let mut waited = None;
        let mut within = None;
        while end < self.len() && end < start + 10 && self.free(end) && !self.is_punct(end) {
            let w = self.low(end);
            if end > start
                && ACTION_VERBS.contains(&w)
                && !matches!(w, "approve" | "accept" | "ship")
            {
                break;
            }
            if NEGATIONS.contains(&w) || w.starts_with("un") && w.ends_with("paid") {
                negative = true;
                negation_at.get_or_insert(end);
            }
            if self.t[end].kind == Kind::Number {
                return None;
            }
            if matches!(
                w,
                "reject" | "rejects" | "rejected" | "declines" | "declined" | "denies" | "denied"
            ) {
                rejected = true;
            }
            if matches!(
                w,
                "payment"
                    | "paid"
                    | "shipped"
                    | "ship"
                    | "ships"
                    | "accepted"
                    | "won"
                    | "delivered"
                    | "signed"
            ) {
                waited = Some(w.to_owned());
            }
            if matches!(w, "within" | "in" | "after")
                && let Some((secs, len)) = time::duration_at(&self.t, end + 1)
            {
                within = Some(secs);
                end += len;
            }
            // "by then", "in time"
            end += 1;
        }
        if rejected && first != "no" {
            return Some((Mark::Rejected, end));
        }
        if negation_at.is_some_and(|n| n > start + 3) {
            return None;
        }
        // "if the payment doesn't arrive" is an outcome; "if the customer is not gold" is not.
        if first == "the"
            && !matches!(
                self.low(start + 1),
                "payment"
                    | "order"
                    | "deal"
                    | "quote"
                    | "invoice"
                    | "approval"
                    | "request"
                    | "money"
            )
        {
            return None;
        }
        negative.then_some((Mark::NotArrived { waited, within }, end))
    }

    fn connectives(&mut self) {
        for i in 0..self.len() {
            if !self.free(i) {
                continue;
            }
            let mark = match self.low(i) {
                "or" | "and/or" => Mark::Or,
                "and" | "&" | "plus" => Mark::And,
                "," | ":" | "-" | "–" | "—" => Mark::Comma,
                "big" | "bigger" | "large" | "larger" | "huge" | "high-value" | "expensive"
                | "significant" | "small" | "tiny" | "cheap" | "low-value" | "suspicious"
                | "risky" | "fraudulent" | "unusual" | "weird" | "strange" | "important"
                | "major" | "hot" | "valuable" | "high-risk" | "bad" | "sketchy" => {
                    Mark::Vague(self.low(i).to_owned())
                }
                _ => continue,
            };
            self.push(i, What::Mark(mark));
        }
    }

    // -----------------------------------------------------------------------------------------
    // URLs: every URL is a call

    fn urls(&mut self) {
        for i in 0..self.len() {
            if self.t[i].kind != Kind::Url || self.used[i] {
                continue;
            }
            let url = self.t[i].raw.clone();
            let lead = [
                "post", "put", "patch", "get", "delete", "call", "hit", "ping", "send", "sends",
                "notify", "trigger", "invoke", "sync", "push", "forward", "via", "to", "at", "a",
                "an", "the", "webhook", "it", "them", "this", "data", "request", "json", "payload",
                "details", "order", "deal", "lead", "using", "through", "endpoint", "api", "url",
                "http",
            ];
            let mut start = i;
            while start > 0 && self.free(start - 1) && lead.contains(&self.low(start - 1)) {
                start -= 1;
            }
            let raw_has = |m: &str| self.t[start..i].iter().any(|t| t.raw == m);
            let method = ["PUT", "GET", "PATCH", "DELETE"]
                .into_iter()
                .find(|m| raw_has(m))
                .unwrap_or("POST");
            let s = self.sent[i];
            let webhook = (start..i).any(|k| self.low(k) == "webhook")
                || (0..self.len())
                    .any(|k| self.sent[k] == s && self.free(k) && self.low(k) == "webhook");
            self.take(start, i + 1);
            self.push(
                start,
                What::Act(Act::Http {
                    url,
                    method: method.into(),
                    webhook,
                }),
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // Waits and delays

    fn waits(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            // "two days after a customer signs up": a delay before the actions.
            if let Some((secs, len)) = time::duration_at(&self.t, i)
                && self.free(i + len)
                && matches!(self.low(i + len), "after" | "later")
                && (i == 0
                    || !matches!(
                        self.low(i - 1),
                        "within" | "in" | "for" | "than" | "last" | "past"
                    ))
            {
                self.take(i, i + len + 1);
                self.push(i, What::Act(Act::Delay { secs }));
                i += len + 1;
                continue;
            }
            // "after 3 days, …"
            if self.low(i) == "after"
                && let Some((secs, len)) = time::duration_at(&self.t, i + 1)
            {
                self.take(i, i + 1 + len);
                self.push(i, What::Act(Act::Delay { secs }));
                i += 1 + len;
                continue;
            }
            if !matches!(self.low(i), "wait" | "waits" | "waiting") {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            let mut timeout = None;
            let mut waited: Option<(String, usize, usize)> = None;
            // Up to two parts in either order: "up to 24 hours" and "for payment".
            for _ in 0..2 {
                if let Some(k) = self.at_any(
                    j,
                    &[
                        "?for up to",
                        "?for at most",
                        "?for no more than",
                        "?for a maximum of",
                        "for",
                        "until",
                    ],
                ) && let Some((secs, len)) = time::duration_at(&self.t, j + k)
                {
                    timeout = Some(secs);
                    j += k + len;
                    continue;
                }
                if let Some((secs, len)) = time::duration_at(&self.t, j) {
                    timeout = Some(secs);
                    j += len;
                    continue;
                }
                if matches!(self.low(j), "for" | "until") && self.free(j) {
                    // The thing waited for, up to a clause end or the timeout.
                    let mut k = j + 1;
                    while k < self.len()
                        && self.free(k)
                        && !self.is_punct(k)
                        && k < j + 9
                        && !(self.low(k) == "up" && self.low(k + 1) == "to")
                        && !matches!(self.low(k), "and" | "then" | "if")
                        && !(matches!(self.low(k), "for" | "within")
                            && time::duration_at(&self.t, k + 1).is_some())
                    {
                        k += 1;
                    }
                    if k > j + 1 {
                        waited = Some((self.words(j + 1, k), j, k));
                        j = k;
                        continue;
                    }
                }
                break;
            }
            // "wait for the fraud team's approval" is an approval, read by its recognizer.
            if let Some((what, _, _)) = &waited
                && what
                    .split(|c: char| !c.is_alphanumeric() && c != '-')
                    .any(|w| {
                        matches!(
                            w.to_lowercase().as_str(),
                            "approval"
                                | "approve"
                                | "approves"
                                | "sign-off"
                                | "signoff"
                                | "review"
                                | "authorization"
                                | "ok"
                        )
                    })
            {
                i += 1;
                continue;
            }
            match waited {
                Some((what, _, _)) => {
                    let (event, field, value) = self.awaited(&what);
                    if event.is_none() {
                        self.ask(format!(
                            "Which event means \"{what}\" has happened? The wait listens for an event type (for example payment.received)."
                        ));
                    }
                    if timeout.is_none() {
                        self.ask(format!(
                            "How long should the workflow wait for {what}? (it waits up to 24 hours for now)"
                        ));
                    }
                    let primary = self.primary_guess();
                    let act = Act::Wait {
                        event: event.unwrap_or_else(|| format!("{primary}.updated")),
                        field,
                        value,
                        timeout: Some(timeout.unwrap_or(86_400)),
                        on_arrive: Vec::new(),
                        on_timeout: Vec::new(),
                    };
                    self.take(i, j);
                    self.push(i, What::Act(act));
                }
                None => match timeout {
                    Some(secs) => {
                        self.take(i, j);
                        self.push(i, What::Act(Act::Delay { secs }));
                    }
                    None => {
                        i += 1;
                        continue;
                    }
                },
            }
            i = j;
        }
    }

    /// The free words from `a` to `b`, joined.
    pub fn words(&self, a: usize, b: usize) -> String {
        (a..b.min(self.len()))
            .filter(|k| !self.is_punct(*k))
            .map(|k| self.t[k].raw.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The entity the prompt is most about so far: the first event's, else the first
    /// mention, else `order`.
    pub fn primary_guess(&self) -> String {
        self.events
            .first()
            .map(|e| e.entity.clone())
            .or_else(|| self.mentions.first().map(|(_, e)| e.clone()))
            .unwrap_or_else(|| "order".into())
    }

    /// The event a wait listens for, from what it waits for ("payment", "it to be accepted",
    /// "the order to ship"), and the field that ties it to this run.
    pub fn awaited(&self, what: &str) -> (Option<String>, Option<String>, Option<String>) {
        let w = what.to_lowercase();
        let primary = self.events_entity_at_or_before(usize::MAX);
        let has = |k: &str| w.split(|c: char| !c.is_alphanumeric()).any(|x| x == k);
        let (event, entity) = if has("payment") || has("payments") {
            ("payment.received".to_owned(), "payment".to_owned())
        } else if has("paid") || has("pay") {
            (format!("{primary}.paid"), primary.clone())
        } else if has("accepted") || has("accept") || has("acceptance") {
            (format!("{primary}.accepted"), primary.clone())
        } else if has("signed") || has("signature") || has("sign") {
            (format!("{primary}.signed"), primary.clone())
        } else if has("won") || has("win") || has("close") || has("closed") {
            ("deal.won".to_owned(), "deal".to_owned())
        } else if has("ship") || has("shipped") || has("shipment") || has("ships") {
            ("order.shipped".to_owned(), "order".to_owned())
        } else if has("delivered") || has("delivery") {
            ("order.delivered".to_owned(), "order".to_owned())
        } else if has("order") || has("purchase") || has("checkout") || has("buy") {
            ("order.created".to_owned(), "order".to_owned())
        } else if has("approved") || has("approval") {
            (format!("{primary}.approved"), primary.clone())
        } else {
            return (None, None, None);
        };
        let (field, value) = if entity == primary {
            (format!("{entity}.id"), format!("{{{{{primary}.id}}}}"))
        } else {
            (
                format!("{entity}.{primary}_id"),
                format!("{{{{{primary}.id}}}}"),
            )
        };
        (Some(event), Some(field), Some(value))
    }

    fn events_entity_at_or_before(&self, _at: usize) -> String {
        self.primary_guess()
    }

    // -----------------------------------------------------------------------------------------
    // Triggers

    /// Finds events. `explicit`: only those a "when", "whenever", "once", "after", "if", "as
    /// soon as" or "each time" introduces, in the window up to the clause end; otherwise an
    /// entity noun beside an event word ("new lead", "places an order", "signups").
    fn triggers(&mut self, explicit: bool) {
        // With an event a "when" introduced, nothing else is the trigger: an event word
        // elsewhere ("moves to closed lost") belongs to a condition.
        if !explicit && self.events.iter().any(|e| e.explicit) {
            return;
        }
        let lead_ins = [
            "when",
            "whenever",
            "once",
            "after",
            "if",
            "as soon as",
            "each time",
            "every time",
            "anytime",
            "any time",
            "upon",
        ];
        let mut i = 0;
        while i < self.len() {
            if explicit {
                let Some(k) = self.at_any(i, &lead_ins) else {
                    i += 1;
                    continue;
                };
                let mut end = i + k;
                while end < self.len() && !self.clause_end(end) && end < i + k + 14 {
                    end += 1;
                }
                match self.event_in(i + k, end, true) {
                    Some((hit, spans)) => {
                        self.take(i, i + k);
                        for (a, b) in spans {
                            self.take(a, b);
                        }
                        self.events.push(EventHit { at: i, ..hit });
                    }
                    None => {
                        let lead = self.low(i);
                        if matches!(lead, "when" | "whenever" | "once" | "anytime" | "upon")
                            && !self.used[i]
                            && (i + k..end).any(|x| {
                                matches!(
                                    self.low(x),
                                    "happens" | "happen" | "occurs" | "changes" | "something"
                                )
                            })
                        {
                            self.vague_when = true;
                        }
                    }
                }
                i = end;
                continue;
            }
            if self.entity_noun(i).is_none() {
                i += 1;
                continue;
            }
            let a = i.saturating_sub(2);
            let b = (i + 9).min(self.len());
            if let Some((hit, spans)) = self.event_in(a, b, false) {
                for (s, e) in spans {
                    self.take(s, e);
                }
                self.events.push(hit);
            }
            i += 1;
        }
    }

    /// An entity and one of its event words between `a` and `b`, with the spans taken (the
    /// event words; the entity noun stays free so conditions still see it).
    fn event_in(&self, a: usize, b: usize, explicit: bool) -> Option<(EventHit, Spans)> {
        let mut best: Option<(usize, EventHit, Spans)> = None;
        let nouns: Vec<(usize, &Entity)> = (a..b)
            .filter_map(|k| self.entity_noun(k).map(|e| (k, e)))
            .collect();
        let mut candidates: Vec<(Option<usize>, &Entity)> =
            nouns.iter().map(|(k, e)| (Some(*k), *e)).collect();
        if nouns.is_empty() && explicit {
            // "mark deals over $1M as strategic when they are created": the pronoun is the
            // entity named before.
            let pronoun =
                (a..b).find(|k| matches!(self.low(*k), "they" | "it" | "them" | "these" | "those"));
            let before = self
                .entity_before(a)
                .and_then(|name| self.lex.entities.iter().find(|e| e.name == name));
            candidates = match (pronoun, before) {
                (Some(p), Some(e)) => vec![(Some(p), e)],
                // "when stock is low", "if someone signs up": a phrase only one entity uses.
                _ => self.lex.entities.iter().map(|e| (None, e)).collect(),
            };
        }
        for (noun_at, e) in candidates {
            for ev in &e.events {
                for phrase in &ev.words {
                    let words: Vec<&str> = phrase.split(' ').collect();
                    // Without a noun, only a phrase one entity owns: "when stock is low",
                    // "whenever someone spends".
                    let strong = matches!(
                        phrase.as_str(),
                        "spends" | "spend" | "buys" | "buy" | "registers" | "abandons" | "churns"
                    );
                    if noun_at.is_none()
                        && ((words.len() < 2 && !strong) || self.shared_phrase(phrase))
                    {
                        continue;
                    }
                    for k in a..b {
                        let is_noun = noun_at == Some(k);
                        let fits = words.iter().enumerate().all(|(n, w)| {
                            let x = k + n;
                            x < b && (self.free(x) || (is_noun && n == 0)) && self.t[x].low == *w
                                || (n == 0
                                    && x < b
                                    && self.t[x].stem() == *w
                                    && (self.free(x) || is_noun))
                        });
                        if !fits {
                            continue;
                        }
                        // "has placed more than 20 orders" counts past events; it is no event.
                        let after = k + words.len();
                        let counted = (after..after + 5).any(|x| {
                            matches!(self.low(x), "orders" | "purchases" | "times" | "items")
                        });
                        let count_follows = self
                            .t
                            .get(after)
                            .is_some_and(|t| t.kind == Kind::Number)
                            || matches!(self.low(after), "more" | "over" | "fewer" | "less" | "at");
                        if k > 0 && matches!(self.low(k - 1), "has" | "have" | "had" | "never")
                            || (counted && count_follows)
                        {
                            continue;
                        }
                        // "paid in EUR" is a currency, not the event.
                        if *phrase == "paid"
                            && matches!(self.low(k + 1), "in" | "with" | "by" | "via" | "using")
                        {
                            continue;
                        }
                        // The noun event "checkout(s)" belongs to the cart when a cart is named.
                        // Words of a relative clause or a threshold do not part a noun from its
                        // verb: "carts over $1k that get abandoned".
                        // A phrase that holds the noun ("added to the cart") is nearest.
                        let distance = match noun_at {
                            Some(n) if (k..k + words.len()).contains(&n) => 0,
                            Some(n) => self.gap(n, k),
                            None => 3,
                        };
                        if !explicit && (distance > 3 || noun_at.is_some_and(|n| n.abs_diff(k) > 8))
                        {
                            continue;
                        }
                        let mut spans = vec![(k, k + words.len())];
                        // Auxiliaries before the verb: "is placed", "gets won".
                        if k > a
                            && matches!(
                                self.low(k - 1),
                                "is" | "are" | "gets" | "get" | "was" | "has" | "been" | "becomes"
                            )
                            && self.free(k - 1)
                        {
                            spans.push((k - 1, k));
                        }
                        let rank = distance * 10 + usize::from(words.len() == 1);
                        let better = best.as_ref().is_none_or(|(r, _, _)| rank < *r);
                        if better {
                            best = Some((
                                rank,
                                EventHit {
                                    at: k,
                                    event: ev.event.clone(),
                                    entity: e.name.clone(),
                                    explicit,
                                },
                                spans,
                            ));
                        }
                    }
                }
            }
        }
        let (_, mut hit, mut spans) = best?;
        // "score reaches 90": the verb is also the comparison, so it stays for the condition.
        if let Some((s, e)) = spans.first().copied()
            && e == s + 1
            && self.t.get(e).is_some_and(|t| t.kind == Kind::Number)
        {
            spans.remove(0);
        }
        // A checkout of a cart.
        let order_named = self
            .mentions
            .iter()
            .any(|(at, e)| e == "order" && !self.t[*at].low.starts_with("checkout"));
        if hit.event == "order.checkout.initiated" && self.in_play("cart") && !order_named {
            hit.event = "cart.checkout.started".into();
            hit.entity = "cart".into();
        }
        Some((hit, spans))
    }

    /// How far apart two tokens are, not counting numbers, thresholds and relative-clause
    /// words.
    fn gap(&self, a: usize, b: usize) -> usize {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        1 + (lo + 1..hi)
            .filter(|k| {
                self.t[*k].kind != Kind::Number
                    && !matches!(
                        self.low(*k),
                        "that"
                            | "which"
                            | "who"
                            | "get"
                            | "gets"
                            | "got"
                            | "is"
                            | "are"
                            | "was"
                            | "were"
                            | "been"
                            | "over"
                            | "under"
                            | "above"
                            | "below"
                            | "more"
                            | "less"
                            | "than"
                            | "at"
                            | "least"
                            | "most"
                    )
            })
            .count()
    }

    /// Whether several entities use an event phrase ("comes in"), so it names none alone.
    fn shared_phrase(&self, phrase: &str) -> bool {
        self.lex
            .entities
            .iter()
            .filter(|e| {
                e.events
                    .iter()
                    .any(|ev| ev.words.iter().any(|w| w == phrase))
            })
            .count()
            > 1
    }
}
