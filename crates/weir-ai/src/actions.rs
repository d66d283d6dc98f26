//! The action recognizers: approvals, tasks, exports, e-mails, notifications, decisions and
//! record updates, each with its arguments (a team, an address, a title, a due date).

use serde_json::Value;

use crate::parse::{ACTION_VERBS, DETERMINERS, NEGATIONS, Parser, STOP, What};
use crate::plan::{Act, Recipient};
use crate::time;
use crate::token::Kind;

/// Words after a team's name that are not part of it.
const TEAM_SUFFIX: &[&str] = &[
    "team",
    "teams",
    "department",
    "departments",
    "dept",
    "group",
    "groups",
    "squad",
    "crew",
    "staff",
    "org",
    "unit",
    "channel",
];

/// Words that may stand before a team in "finance approval" but are no team.
const NOT_TEAM: &[&str] = &[
    "require",
    "requires",
    "required",
    "requiring",
    "need",
    "needs",
    "needed",
    "manual",
    "get",
    "gets",
    "explicit",
    "prior",
    "written",
    "formal",
    "human",
    "extra",
    "additional",
    "special",
    "without",
    "with",
    "seek",
    "request",
    "ask",
    "sent",
    "send",
    "hold",
    "put",
    "pending",
    "awaiting",
    "wait",
    "waiting",
    "go",
    "goes",
    "route",
    "escalate",
    "submit",
    "their",
    "for",
];

/// Words about to be ignored before an approval keyword ("must be", "needs a").
const APPROVAL_HELPERS: &[&str] = &[
    "require",
    "requires",
    "required",
    "requiring",
    "need",
    "needs",
    "needed",
    "needing",
    "must",
    "should",
    "be",
    "get",
    "gets",
    "getting",
    "seek",
    "request",
    "have",
    "has",
    "a",
    "an",
    "the",
    "manual",
    "for",
    "to",
    "will",
    "explicit",
    "prior",
    "formal",
    "human",
    "ask",
    "asking",
    "also",
    "still",
    "always",
    "go",
    "goes",
    "sent",
    "send",
    "submit",
    "pending",
    "awaiting",
    "under",
    "until",
    "wait",
    "waits",
    "waiting",
    "on",
];

/// Nouns that make "send … X" a notification, an e-mail or a webhook.
const NOTE_NOUNS: &[&str] = &[
    "summary",
    "report",
    "digest",
    "notification",
    "notifications",
    "alert",
    "alerts",
    "message",
    "messages",
    "update",
    "updates",
    "heads-up",
    "recap",
    "note",
    "ping",
    "list",
    "overview",
    "slack",
    "sms",
    "text",
];
const EMAIL_NOUNS: &[&str] = &[
    "email",
    "e-mail",
    "mail",
    "newsletter",
    "coupon",
    "voucher",
    "receipt",
    "guide",
    "confirmation",
    "survey",
    "invitation",
    "invite",
    "offer",
    "code",
    "discount",
];

/// People words that name nobody in particular.
const VAGUE_PEOPLE: &[&str] = &[
    "someone",
    "somebody",
    "people",
    "anyone",
    "anybody",
    "everyone",
    "everybody",
    "me",
    "us",
    "the right people",
    "whoever",
];

/// Who is reached, or that the prompt did not say.
pub(crate) enum Who {
    R(Recipient),
    Vague,
}

fn singular(w: &str) -> String {
    let ends = [
        "ers", "ors", "ists", "ants", "ents", "reps", "leads", "heads", "execs", "ives", "mins",
        "gers",
    ];
    if w.len() > 3 && ends.iter().any(|e| w.ends_with(e)) {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl Parser<'_> {
    pub(crate) fn actions(&mut self) {
        self.approvals();
        self.tasks();
        self.exports();
        self.emails();
        self.sends();
        self.notifies();
        self.decisions();
        self.updates();
    }

    // -----------------------------------------------------------------------------------------
    // Teams and recipients

    /// A team's name at `i`: "the finance team" → `finance`, "sales managers" →
    /// `sales_manager`, "the VP of sales" → `vp_of_sales`.
    pub(crate) fn team_at(&self, i: usize) -> Option<(String, usize)> {
        let mut j = i;
        while DETERMINERS.contains(&self.word(j)) {
            j += 1;
        }
        let mut words: Vec<String> = Vec::new();
        while j < self.len() && words.len() < 4 {
            let w = self.word(j);
            if w.is_empty() || self.t[j].kind != Kind::Word {
                break;
            }
            if w == "of"
                && matches!(
                    words.last().map(String::as_str),
                    Some("vp" | "head" | "director" | "chief" | "svp" | "evp")
                )
                && !self.word(j + 1).is_empty()
            {
                words.push("of".into());
                j += 1;
                continue;
            }
            if STOP.contains(&w)
                || DETERMINERS.contains(&w)
                || NEGATIONS.contains(&w)
                || (ACTION_VERBS.contains(&w) && !words.is_empty())
                || w.chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                break;
            }
            words.push(self.t[j].stem().to_owned());
            j += 1;
        }
        while words.len() > 1
            && words
                .last()
                .is_some_and(|w| TEAM_SUFFIX.contains(&w.as_str()))
        {
            words.pop();
        }
        if words.is_empty() || (words.len() == 1 && TEAM_SUFFIX.contains(&words[0].as_str())) {
            return None;
        }
        if let Some(last) = words.last_mut() {
            *last = singular(last);
        }
        let name = words
            .join("_")
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect::<String>();
        (!name.is_empty()).then_some((name, j))
    }

    /// Matches a team's name against the teams the context knows; asks when it knows teams
    /// and none matches.
    pub(crate) fn known_team(&mut self, name: &str, role: &str) -> String {
        let teams = &self.ctx.teams;
        if teams.is_empty() {
            return name.to_owned();
        }
        let norm = |s: &str| {
            s.to_lowercase()
                .replace(['-', ' '], "_")
                .split('_')
                .map(singular)
                .collect::<Vec<_>>()
                .join("_")
        };
        let want = norm(name);
        let parts: Vec<&str> = want.split('_').collect();
        let found = teams
            .iter()
            .find(|t| norm(t) == want)
            .or_else(|| {
                teams.iter().find(|t| {
                    let n = norm(t);
                    let tp: Vec<&str> = n.split('_').collect();
                    parts.iter().all(|p| tp.contains(p))
                })
            })
            .or_else(|| {
                teams.iter().find(|t| {
                    let n = norm(t);
                    n.split('_').all(|p| parts.contains(&p))
                })
            });
        match found {
            Some(t) => t.clone(),
            None => {
                self.ask(format!(
                    "'{name}' is not a team of this environment (known: {}). Which team should {role}?",
                    teams.join(", ")
                ));
                name.to_owned()
            }
        }
    }

    /// The entity whose e-mail address "them" or "the customer" means.
    fn person_entity(&self) -> String {
        let e = self.primary_guess();
        if e == "lead" {
            return e;
        }
        "customer".into()
    }

    /// Someone to notify or e-mail at `i`: an address, a channel, "the customer" or "them", a
    /// team, or someone vague.
    pub(crate) fn recipient_at(&self, i: usize) -> Option<(Who, usize)> {
        let t = self.t.get(i).filter(|_| self.free(i))?;
        match t.kind {
            Kind::Email if !t.raw.starts_with('@') => {
                return Some((Who::R(Recipient::Address(t.raw.clone())), i + 1));
            }
            Kind::Channel => return Some((Who::R(Recipient::Channel(t.raw.clone())), i + 1)),
            Kind::Word => {}
            _ => return None,
        }
        if matches!(t.low.as_str(), "them" | "him" | "her" | "they") {
            return Some((Who::R(Recipient::EntityEmail(self.person_entity())), i + 1));
        }
        if let Some(k) = VAGUE_PEOPLE.iter().filter_map(|p| self.at(i, p)).max() {
            return Some((Who::Vague, i + k));
        }
        let mut j = i;
        while DETERMINERS.contains(&self.word(j)) {
            j += 1;
        }
        // "the customer", "the buyer", "the lead" alone (not "the customer success team").
        if let Some(e) = self.entity_noun(j)
            && matches!(e.name.as_str(), "customer" | "lead")
        {
            let next = self.low(j + 1);
            let alone = self.boundary(j + 1)
                || STOP.contains(&next)
                || DETERMINERS.contains(&next)
                || ACTION_VERBS.contains(&next)
                || matches!(next, "email" | "e-mail");
            if alone {
                let end = if matches!(next, "email" | "e-mail") && self.t[j].low.ends_with("'s") {
                    j + 2
                } else {
                    j + 1
                };
                return Some((Who::R(Recipient::EntityEmail(e.name.clone())), end));
            }
        }
        let (team, end) = self.team_at(i)?;
        // "the on-call channel #ops-alerts", "the finance team (finance@acme.com)".
        let mut k = end;
        while k < self.len() && matches!(self.low(k), "(" | ":" | "-") {
            k += 1;
        }
        if let Some(t) = self.t.get(k).filter(|_| self.free(k)) {
            match t.kind {
                Kind::Channel => return Some((Who::R(Recipient::Channel(t.raw.clone())), k + 1)),
                Kind::Email if !t.raw.starts_with('@') => {
                    return Some((Who::R(Recipient::Address(t.raw.clone())), k + 1));
                }
                _ => {}
            }
        }
        // "the customer success team at cs@acme.com": the address wins.
        if self.low(end) == "at"
            && let Some(a) = self.t.get(end + 1).filter(|t| t.kind == Kind::Email)
        {
            return Some((Who::R(Recipient::Address(a.raw.clone())), end + 2));
        }
        Some((Who::R(Recipient::Team(team)), end))
    }

    /// Recipients joined by "and", "or" and commas.
    fn recipients_at(&mut self, i: usize) -> (Vec<Recipient>, bool, usize) {
        let mut out = Vec::new();
        let mut vague = false;
        let mut j = i;
        while let Some((who, end)) = self.recipient_at(j) {
            match who {
                Who::R(Recipient::Team(t)) => {
                    let t = self.known_team(&t, "be notified");
                    out.push(Recipient::Team(t));
                }
                Who::R(r) => out.push(r),
                Who::Vague => vague = true,
            }
            j = end;
            let sep = matches!(self.low(j), "and" | "or" | "," | "&") && self.free(j);
            if sep
                && !ACTION_VERBS.contains(&self.low(j + 1))
                && self.recipient_at(j + 1).is_some()
                && !matches!(self.low(j + 1), "the" if ACTION_VERBS.contains(&self.low(j + 2)))
            {
                j += 1;
                continue;
            }
            break;
        }
        (out, vague, j)
    }

    /// "on Slack", "by SMS", "via email", "in-app" in the sentence of `i`: the channel, taken.
    fn channel_in_sentence(&mut self, i: usize) -> Option<String> {
        let (a, b) = (self.sentence_start(i), self.sentence_end(i));
        for k in a..b {
            let m = self.at_any(
                k,
                &[
                    "on|in|via|through|over slack",
                    "by|via|over sms|text",
                    "by|via|over email|e-mail",
                    "in-app",
                    "in app",
                ],
            );
            if let Some(len) = m {
                let word = self.low(k + len - 1).to_owned();
                let channel = match word.as_str() {
                    "slack" => "slack",
                    "sms" | "text" => "sms",
                    "email" | "e-mail" => "email",
                    _ => "in_app",
                };
                self.take(k, k + len);
                return Some(channel.into());
            }
        }
        None
    }

    /// A noun phrase at `i` for a subject or a note: its words up to a clause end, and the
    /// head noun (the last word before a preposition).
    fn noun_phrase(&self, i: usize) -> Option<(String, String, usize)> {
        let mut j = i;
        while DETERMINERS.contains(&self.low(j)) && !self.is_punct(j) {
            j += 1;
        }
        let start = j;
        let mut head = String::new();
        let mut words: Vec<String> = Vec::new();
        let mut in_tail = false;
        while j < self.len() && words.len() < 10 {
            let t = &self.t[j];
            if t.kind != Kind::Word || (!self.free(j) && t.kind == Kind::Word && in_tail) {
                break;
            }
            let w = t.low.as_str();
            let stop = STOP.contains(&w) && !matches!(w, "of" | "about" | "on" | "for");
            // "a summary of open deals": in the tail a verb is a word like any other.
            if stop
                || (ACTION_VERBS.contains(&w)
                    && j > start
                    && !in_tail
                    && !NOTE_NOUNS.contains(&w)
                    && !EMAIL_NOUNS.contains(&w))
            {
                break;
            }
            if matches!(w, "of" | "about" | "on" | "for") {
                if words.is_empty() {
                    break;
                }
                in_tail = true;
            } else if !in_tail {
                head = w.to_owned();
            }
            words.push(t.raw.clone());
            j += 1;
        }
        if words.is_empty() || head.is_empty() {
            return None;
        }
        Some((words.join(" "), head, j))
    }

    /// Takes a verb of the sentence of `at` that only introduced an action found later
    /// ("Send orders … to the fraud team for review", "Hold orders … for review").
    fn take_leading_verb(&mut self, at: usize, verbs: &[&str]) {
        let start = self.sentence_start(at);
        if let Some(k) = (start..at).find(|k| self.free(*k) && verbs.contains(&self.low(*k))) {
            self.take(k, k + 1);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Approvals

    fn approvals(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            let w = self.low(i).to_owned();
            let next = self.low(i + 1).to_owned();
            // "auto-approve", "approve automatically": no approval, a pass.
            let auto = matches!(
                w.as_str(),
                "auto-approve"
                    | "auto-approved"
                    | "auto-approves"
                    | "autoapprove"
                    | "auto-accept"
                    | "auto-allow"
            );
            // "approve orders under $50 automatically": the adverb may come after the object.
            let automatic = (i + 1..self.len())
                .take_while(|k| !self.clause_end(*k) && !matches!(self.low(*k), "and" | "but"))
                .find(|k| {
                    self.free(*k)
                        && matches!(self.low(*k), "automatically" | "instantly" | "immediately")
                });
            if auto || (matches!(w.as_str(), "approve" | "approves") && automatic.is_some()) {
                if let Some(k) = automatic.filter(|_| !auto) {
                    self.take(k, k + 1);
                }
                let len = 1;
                let mut s = i;
                while s > 0
                    && self.free(s - 1)
                    && matches!(
                        self.low(s - 1),
                        "be" | "are" | "is" | "get" | "gets" | "should" | "will"
                    )
                {
                    s -= 1;
                }
                self.take(s, i + len);
                self.push(s, What::Act(Act::Allow));
                i += len;
                continue;
            }
            let keyword = match w.as_str() {
                "approval" | "approvals" | "sign-off" | "signoff" | "sign-offs"
                | "authorization" | "authorisation" | "approved" | "reviewed" | "approve"
                | "approves" => 1,
                "sign" | "signed" | "signs" if next == "off" => 2,
                "review" => {
                    let prev = if i > 0 { self.low(i - 1) } else { "" };
                    usize::from(
                        matches!(prev, "for" | "manual" | "a" | "under" | "human" | "their")
                            || matches!(next.as_str(), "by" | "from"),
                    )
                }
                "hold" => usize::from(self.sent_has_team_after(i)),
                _ => 0,
            };
            if keyword == 0 {
                i += 1;
                continue;
            }
            let mut start = i;
            let mut end = i + keyword;
            let mut team: Option<String> = None;
            // "hold … for the risk team", "on hold for the risk team".
            if w == "hold" {
                let mut k = i + 1;
                while k < self.len() && !self.is_punct(k) && self.low(k) != "for" {
                    k += 1;
                }
                if let Some((t, e)) = self.team_at(k + 1) {
                    team = Some(t);
                    self.take(k, e);
                }
                if i > 0 && self.low(i - 1) == "on" && self.free(i - 1) {
                    start = i - 1;
                }
                self.take_leading_verb(i, &["put", "place", "keep"]);
            }
            // "approval from the finance team", "approved by a sales manager".
            if team.is_none()
                && matches!(self.word(end), "from" | "by" | "of")
                && let Some((t, e)) = self.team_at(end + 1)
            {
                team = Some(t);
                end = e;
            }
            // "finance approval", "a manager's approval", "compliance sign-off".
            if team.is_none() {
                let mut b = i;
                while b > 0
                    && b + 3 > i
                    && self.free(b - 1)
                    && self.t[b - 1].kind == Kind::Word
                    && {
                        let x = self.low(b - 1);
                        !STOP.contains(&x)
                            && !DETERMINERS.contains(&x)
                            && !ACTION_VERBS.contains(&x)
                            && !NOT_TEAM.contains(&x)
                            && !NEGATIONS.contains(&x)
                            && self.entity_noun(b - 1).is_none()
                    }
                {
                    b -= 1;
                }
                if b < i {
                    let mut name = (b..i)
                        .map(|k| self.t[k].stem().to_owned())
                        .collect::<Vec<_>>();
                    while name.len() > 1
                        && name
                            .last()
                            .is_some_and(|w| TEAM_SUFFIX.contains(&w.as_str()))
                    {
                        name.pop();
                    }
                    if let Some(last) = name.last_mut() {
                        *last = singular(last);
                    }
                    team = Some(name.join("_"));
                    start = b;
                }
            }
            // "… to the fraud team for manual review".
            if team.is_none() {
                let mut f = i;
                while f > 0 && matches!(self.low(f - 1), "manual" | "a" | "an" | "human" | "final")
                {
                    f -= 1;
                }
                if f > 0 && self.low(f - 1) == "for" {
                    let for_at = f - 1;
                    let to_at = (for_at.saturating_sub(6)..for_at)
                        .rev()
                        .find(|k| self.low(*k) == "to" && self.free(*k));
                    if let Some(to_at) = to_at
                        && let Some((t, e)) = self.team_at(to_at + 1)
                        && e == for_at
                    {
                        team = Some(t);
                        start = to_at;
                        self.take_leading_verb(
                            to_at,
                            &[
                                "send", "sends", "route", "escalate", "forward", "pass", "submit",
                                "refer",
                            ],
                        );
                    }
                }
            }
            // "within 4 hours".
            let mut timeout = None;
            for k in end..(end + 3).min(self.len()) {
                if matches!(self.word(k), "within" | "in")
                    && let Some((secs, len)) = time::duration_at(&self.t, k + 1)
                {
                    timeout = Some(secs);
                    self.take(k, k + 1 + len);
                    break;
                }
            }
            let mut s = start;
            while s > 0 && self.free(s - 1) && APPROVAL_HELPERS.contains(&self.low(s - 1)) {
                s -= 1;
            }
            // "send … for review by", "hold … for review".
            if w == "review" || w == "approval" {
                self.take_leading_verb(
                    s,
                    &[
                        "hold", "send", "route", "escalate", "forward", "submit", "put", "flag",
                    ],
                );
            }
            let team = match team {
                Some(t) => self.known_team(&t, "approve"),
                None => {
                    let hint = if self.ctx.teams.is_empty() {
                        "for example finance or sales_manager".to_owned()
                    } else {
                        format!("known: {}", self.ctx.teams.join(", "))
                    };
                    self.ask(format!("Which team should approve? ({hint})"));
                    "approver".into()
                }
            };
            self.take(s, end);
            self.push(
                s,
                What::Act(Act::Approval {
                    team,
                    timeout,
                    on_approve: Vec::new(),
                    on_reject: None,
                    on_timeout: None,
                }),
            );
            i = end;
        }
    }

    /// Whether "hold" at `i` is followed in its sentence by "for" and a team.
    fn sent_has_team_after(&self, i: usize) -> bool {
        let end = self.sentence_end(i);
        (i + 1..end).any(|k| {
            self.low(k) == "for"
                && self.free(k)
                && self
                    .team_at(k + 1)
                    .is_some_and(|(t, _)| !t.starts_with("review") && !t.starts_with("approval"))
        })
    }

    // -----------------------------------------------------------------------------------------
    // Tasks

    fn tasks(&mut self) {
        let nouns = [
            "task",
            "tasks",
            "todo",
            "to-do",
            "follow-up",
            "followup",
            "ticket",
            "follow",
        ];
        let mut i = 0;
        while i < self.len() {
            let verb = self.word(i).to_owned();
            if !matches!(
                verb.as_str(),
                "create"
                    | "creates"
                    | "open"
                    | "opens"
                    | "add"
                    | "adds"
                    | "make"
                    | "assign"
                    | "assigns"
                    | "schedule"
                    | "schedules"
                    | "log"
                    | "raise"
                    | "file"
                    | "set"
            ) {
                i += 1;
                continue;
            }
            // The task noun within the next four words: "a follow-up task", "an onboarding task".
            let mut j = i + 1;
            while DETERMINERS.contains(&self.word(j)) {
                j += 1;
            }
            let adj_start = j;
            let mut noun_at = None;
            while j < self.len() && j < adj_start + 4 && !self.word(j).is_empty() {
                if nouns.contains(&self.word(j)) {
                    noun_at = Some(j);
                    // "a follow-up task": the noun is the last of them.
                    if nouns.contains(&self.word(j + 1)) {
                        j += 1;
                        noun_at = Some(j);
                    }
                    break;
                }
                if STOP.contains(&self.word(j)) {
                    break;
                }
                j += 1;
            }
            let Some(noun) = noun_at else {
                i += 1;
                continue;
            };
            let mut end = noun + 1;
            if self.low(noun) == "follow" && self.low(end) == "up" {
                end += 1;
            }
            if matches!(self.word(end), "call" | "meeting" | "email") {
                end += 1;
            }
            let mut adjectives: Vec<String> = (adj_start..noun)
                .map(|k| self.t[k].low.clone())
                .filter(|w| !nouns.contains(&w.as_str()))
                .collect();
            if matches!(self.low(noun), "follow-up" | "followup" | "follow") {
                adjectives.push("follow-up".into());
            }
            let mut assignee = None;
            let mut title = None;
            let mut due = None;
            // "for the SDR team", "assigned to billing".
            let for_at = self.at_any(end, &["for", "assigned to", "to"]);
            if let Some(k) = for_at
                && let Some((t, e)) = self.team_at(end + k)
                && (self.low(end) != "to" || self.is_team_like(end + k))
            {
                let t = self.known_team(&t, "own the task");
                assignee = Some(t);
                end = e;
            }
            // "to follow up within 3 days", "to reorder", "to contact the customer".
            if self.word(end) == "to" {
                let mut k = end + 1;
                let mut words: Vec<String> = Vec::new();
                while k < self.len()
                    && words.len() < 8
                    && self.free(k)
                    && self.t[k].kind == Kind::Word
                {
                    let w = self.low(k);
                    let phrasal = w == "up"
                        && words.last().is_some_and(|p| {
                            matches!(
                                p.as_str(),
                                "follow" | "check" | "set" | "reach" | "pick" | "call"
                            )
                        });
                    let keep = !STOP.contains(&w) || matches!(w, "the" | "a" | "an") || phrasal;
                    if !keep || (w == "and" && ACTION_VERBS.contains(&self.low(k + 1))) {
                        break;
                    }
                    words.push(self.t[k].raw.clone());
                    k += 1;
                }
                if !words.is_empty() {
                    title = Some(capitalize(&words.join(" ")));
                    end = k;
                }
            }
            // "within 3 days", "due in 2 days", "by tomorrow".
            for k in end..(end + 3).min(self.len()) {
                if let Some(p) = self.at_any(k, &["within", "due ?in|?within", "in"])
                    && let Some((secs, len)) = time::duration_at(&self.t, k + p)
                {
                    due = Some(time::days(secs));
                    self.take(k, k + p + len);
                    break;
                }
                if let Some(p) = self.at_any(k, &["by|due tomorrow", "by|due next week"]) {
                    due = Some(if self.low(k + p - 1) == "tomorrow" {
                        1
                    } else {
                        7
                    });
                    self.take(k, k + p);
                    break;
                }
            }
            if title.is_none() && !adjectives.is_empty() {
                let t = adjectives.join(" ").replace("follow-up", "follow up");
                title = Some(capitalize(&t));
            }
            self.take(i, end);
            self.push(
                i,
                What::Act(Act::Task {
                    title,
                    assignee,
                    due_days: due,
                }),
            );
            i = end;
        }
    }

    /// Whether a team's name starts at `i` rather than a verb phrase ("to billing" vs "to
    /// follow up").
    fn is_team_like(&self, i: usize) -> bool {
        let w = self.low(i);
        DETERMINERS.contains(&w)
            || !matches!(
                w,
                "follow"
                    | "call"
                    | "review"
                    | "contact"
                    | "check"
                    | "reorder"
                    | "send"
                    | "reach"
                    | "update"
                    | "email"
                    | "ship"
                    | "restock"
                    | "confirm"
                    | "verify"
                    | "investigate"
                    | "look"
            )
    }

    // -----------------------------------------------------------------------------------------
    // Exports

    fn exports(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !matches!(self.word(i), "export" | "exports" | "exporting") {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            let mut entity = None;
            while j < self.len() && j < i + 6 && !self.is_punct(j) {
                if let Some(e) = self.entity_noun(j) {
                    entity = Some(e.name.clone());
                    j += 1;
                    break;
                }
                j += 1;
            }
            let entity = entity.unwrap_or_else(|| self.primary_guess());
            let mut format = "csv".to_owned();
            let mut end = j;
            for k in j..(j + 5).min(self.len()) {
                let f = match self.low(k) {
                    "csv" => "csv",
                    "json" => "json",
                    "excel" | "xlsx" | "spreadsheet" => "xlsx",
                    _ => continue,
                };
                format = f.to_owned();
                end = k + 1;
                if self.low(end) == "file" {
                    end += 1;
                }
                break;
            }
            // "and send it to finance@acme.com", "for accounting@acme.com".
            let mut email_to = None;
            let s_end = self.sentence_end(i);
            for k in end..s_end {
                if self.t[k].kind == Kind::Email && self.free(k) {
                    email_to = Some(self.t[k].raw.clone());
                    let mut a = k;
                    while a > end
                        && self.free(a - 1)
                        && matches!(
                            self.low(a - 1),
                            "and"
                                | "send"
                                | "email"
                                | "mail"
                                | "it"
                                | "to"
                                | "for"
                                | "them"
                                | "the"
                                | "file"
                                | "results"
                        )
                    {
                        a -= 1;
                    }
                    self.take(a, k + 1);
                    break;
                }
            }
            self.take(i, end);
            self.push(
                i,
                What::Act(Act::Export {
                    format,
                    entity,
                    email_to,
                }),
            );
            i = end.max(i + 1);
        }
    }

    // -----------------------------------------------------------------------------------------
    // E-mail

    /// Whether "email" at `i` is the verb ("email the customer") rather than the noun ("an
    /// email", "email ends with").
    fn email_verb(&self, i: usize) -> bool {
        let prev = if i == 0 { "" } else { self.low(i - 1) };
        let next = self.low(i + 1);
        let noun_before = [
            "a",
            "an",
            "the",
            "their",
            "his",
            "her",
            "its",
            "welcome",
            "thank-you",
            "reminder",
            "whose",
            "with",
            "by",
            "via",
            "disposable",
            "valid",
            "work",
            "business",
            "personal",
            "same",
            "an",
            "customer's",
            "lead's",
            "confirmation",
            "follow-up",
            "marketing",
            "this",
            "that",
            "your",
            "our",
            "my",
        ];
        let noun_after = [
            "address",
            "addresses",
            "domain",
            "domains",
            "ends",
            "contains",
            "containing",
            "starts",
            "is",
            "from",
            "ending",
            "starting",
            "includes",
            "matches",
            "that",
            "was",
            "has",
            "doesn't",
            "does",
            "to",
        ];
        !noun_before.contains(&prev)
            && !prev.ends_with("'s")
            && !noun_after.contains(&next)
            && !self.boundary(i + 1)
    }

    fn emails(&mut self) {
        let mut i = 0;
        while i < self.len() {
            let w = self.word(i).to_owned();
            // "should get a thank-you email", "receive an email".
            if matches!(w.as_str(), "get" | "gets" | "receive" | "receives") {
                let mut j = i + 1;
                while DETERMINERS.contains(&self.word(j)) {
                    j += 1;
                }
                let adj_start = j;
                while j < adj_start + 3
                    && !self.word(j).is_empty()
                    && !matches!(self.word(j), "email" | "e-mail")
                {
                    j += 1;
                }
                if matches!(self.word(j), "email" | "e-mail") {
                    let subject = (adj_start < j).then(|| {
                        capitalize(&self.words(adj_start, j).replace("thank-you", "thank you"))
                    });
                    let to = Recipient::EntityEmail(self.person_entity());
                    let mut s = i;
                    while s > 0
                        && self.free(s - 1)
                        && matches!(self.low(s - 1), "should" | "will" | "must" | "to")
                    {
                        s -= 1;
                    }
                    self.take(s, j + 1);
                    self.push(s, What::Act(Act::Email { to, subject }));
                    i = j + 1;
                    continue;
                }
            }
            if !matches!(w.as_str(), "email" | "e-mail" | "mail" | "emails") || !self.email_verb(i)
            {
                i += 1;
                continue;
            }
            let Some((who, mut end)) = self.recipient_at(i + 1) else {
                i += 1;
                continue;
            };
            // "email the pipeline report to sales-leads@acme.com": what looked like a team was
            // the thing sent.
            let mut who = who;
            let mut subject = None;
            if let Who::R(Recipient::Team(_)) = &who
                && self.low(end) == "to"
                && let Some((to, e)) = self.recipient_at(end + 1)
            {
                subject = Some(capitalize(
                    self.words(i + 1, end).trim_start_matches("the "),
                ));
                who = to;
                end = e;
            }
            // "email the customer a reminder", "email x@y.com the weekly revenue report".
            if let Some((text, _, e)) = self.noun_phrase(end).filter(|_| subject.is_none())
                && (DETERMINERS.contains(&self.low(end)) || self.free(end))
            {
                subject = Some(capitalize(&text));
                end = e;
            }
            let act = match who {
                Who::R(Recipient::Team(t)) => {
                    let t = self.known_team(&t, "receive the e-mail");
                    Act::Notify {
                        to: vec![Recipient::Team(t)],
                        channel: Some("email".into()),
                        note: subject,
                    }
                }
                Who::R(r) => Act::Email { to: r, subject },
                Who::Vague => {
                    self.ask("Who should receive the e-mail? Give an address or a team.");
                    Act::Email {
                        to: Recipient::EntityEmail(self.person_entity()),
                        subject,
                    }
                }
            };
            self.take(i, end);
            self.push(i, What::Act(act));
            i = end;
        }
    }

    // -----------------------------------------------------------------------------------------
    // "send …": an e-mail, a notification or a webhook by what is sent

    fn sends(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !matches!(
                self.word(i),
                "send"
                    | "sends"
                    | "sending"
                    | "trigger"
                    | "triggers"
                    | "fire"
                    | "fires"
                    | "dispatch"
            ) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            let mut to: Option<Who> = None;
            // "send the sales team a summary", "send them a welcome email".
            if let Some((who, e)) = self.recipient_at(j)
                && matches!(self.low(e), "a" | "an" | "the" | "their" | "our")
            {
                to = Some(who);
                j = e;
            }
            let Some((text, head, mut end)) = self.noun_phrase(j) else {
                i += 1;
                continue;
            };
            if to.is_none()
                && matches!(self.word(end), "to" | "for")
                && let Some((who, e)) = self.recipient_at(end + 1)
            {
                to = Some(who);
                end = e;
            }
            let head = head.as_str();
            let act = if head == "webhook" || head == "webhooks" {
                self.ask("Which URL should the webhook call?");
                Act::Http {
                    url: "https://example.com/webhook".into(),
                    method: "POST".into(),
                    webhook: true,
                }
            } else if EMAIL_NOUNS.contains(&head)
                || (head == "reminder"
                    && matches!(to, None | Some(Who::R(Recipient::EntityEmail(_)))))
            {
                let subject = Some(capitalize(&text.replace("thank-you", "thank you")))
                    .filter(|s| !matches!(s.to_lowercase().as_str(), "email" | "e-mail" | "mail"));
                match to {
                    Some(Who::R(Recipient::Team(t))) => {
                        let t = self.known_team(&t, "receive the e-mail");
                        Act::Notify {
                            to: vec![Recipient::Team(t)],
                            channel: Some("email".into()),
                            note: subject,
                        }
                    }
                    Some(Who::R(r)) => Act::Email { to: r, subject },
                    Some(Who::Vague) | None => {
                        let e = self.person_entity();
                        if to.is_some() {
                            self.ask("Who should receive the e-mail? Give an address or a team.");
                        }
                        Act::Email {
                            to: Recipient::EntityEmail(e),
                            subject,
                        }
                    }
                }
            } else if NOTE_NOUNS.contains(&head) || head == "reminder" {
                let note = Some(capitalize(&text));
                match to {
                    Some(Who::R(Recipient::Address(a))) => Act::Email {
                        to: Recipient::Address(a),
                        subject: note,
                    },
                    Some(Who::R(r)) => {
                        let r = match r {
                            Recipient::Team(t) => {
                                Recipient::Team(self.known_team(&t, "be notified"))
                            }
                            other => other,
                        };
                        // "an SMS", "a Slack message", "a text": the channel is in what is sent.
                        let said = text.to_lowercase();
                        let channel = if said.contains("sms") || said.contains("text") {
                            Some("sms".to_owned())
                        } else if said.contains("slack") {
                            Some("slack".to_owned())
                        } else {
                            self.channel_in_sentence(i)
                        };
                        Act::Notify {
                            to: vec![r],
                            channel,
                            note,
                        }
                    }
                    Some(Who::Vague) | None => {
                        self.ask(format!("Who should receive the {head}? Give a team, an address or a Slack channel."));
                        Act::Notify {
                            to: Vec::new(),
                            channel: None,
                            note,
                        }
                    }
                }
            } else {
                i += 1;
                continue;
            };
            self.take(i, end);
            self.push(i, What::Act(act));
            i = end;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Notifications

    fn notifies(&mut self) {
        let mut i = 0;
        while i < self.len() {
            let w = self.word(i).to_owned();
            let verb = matches!(
                w.as_str(),
                "notify"
                    | "notifies"
                    | "alert"
                    | "alerts"
                    | "tell"
                    | "tells"
                    | "inform"
                    | "informs"
                    | "ping"
                    | "pings"
                    | "message"
                    | "warn"
                    | "warns"
                    | "page"
                    | "let"
                    | "cc"
                    | "post"
                    | "posts"
                    | "escalate"
                    | "escalates"
            );
            if !verb {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            if matches!(w.as_str(), "post" | "posts" | "escalate" | "escalates") {
                // "post (a message) to #sales", "escalate to the fraud team".
                let k = self.at_any(j, &["?a ?message|?note|?update to|in|on"]);
                match k {
                    Some(k) if matches!(self.low(j + k - 1), "to" | "in" | "on") => j += k,
                    _ => {
                        i += 1;
                        continue;
                    }
                }
            }
            let (to, vague, mut end) = self.recipients_at(j);
            if w == "let" {
                if to.is_empty() || self.low(end) != "know" {
                    i += 1;
                    continue;
                }
                end += 1;
            }
            if to.is_empty() && !vague {
                // "notify" with nobody after it: ask, unless the verb was something else.
                if matches!(w.as_str(), "notify" | "alert" | "inform" | "warn") {
                    self.ask("Who should be notified? Give a team, an address or a Slack channel.");
                    self.take(i, i + 1);
                    self.push(
                        i,
                        What::Act(Act::Notify {
                            to: Vec::new(),
                            channel: None,
                            note: None,
                        }),
                    );
                }
                i += 1;
                continue;
            }
            if vague {
                self.ask("Who should be notified? Give a team, an address or a Slack channel.");
            }
            // "about the order", "with the details".
            let mut note = None;
            if self.word(end) == "about"
                && let Some((text, _, e)) = self.noun_phrase(end + 1)
            {
                note = Some(capitalize(&text));
                end = e;
            }
            self.take(i, end);
            let channel = self.channel_in_sentence(i);
            self.push(i, What::Act(Act::Notify { to, channel, note }));
            i = end;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Allow and block

    fn decisions(&mut self) {
        let mut i = 0;
        while i < self.len() {
            if !self.free(i) {
                i += 1;
                continue;
            }
            let w = self.low(i);
            let block = matches!(
                w,
                "block"
                    | "blocks"
                    | "blocked"
                    | "blocking"
                    | "reject"
                    | "rejects"
                    | "rejected"
                    | "decline"
                    | "declines"
                    | "declined"
                    | "deny"
                    | "denies"
                    | "denied"
                    | "refuse"
                    | "refuses"
                    | "refused"
                    | "prevent"
                    | "prevents"
                    | "stop"
                    | "stops"
                    | "ban"
                    | "banned"
                    | "forbid"
                    | "disallow"
                    | "disallowed"
            );
            let mut len = 1;
            let allow_len = self.at_any(
                i,
                &[
                    "allow",
                    "allows",
                    "allowed",
                    "accept",
                    "accepts",
                    "accepted",
                    "permit",
                    "permits",
                    "permitted",
                    "whitelist",
                    "allowlist",
                    "go|goes|pass|passes through",
                    "go|goes straight through",
                    "go|goes ahead",
                    "pass",
                    "passes",
                    "proceed",
                    "let through",
                ],
            );
            if !block {
                match allow_len {
                    Some(k) => len = k,
                    None => {
                        i += 1;
                        continue;
                    }
                }
            }
            // "never blocked", "don't allow", "should not be allowed".
            let mut negated = false;
            let mut s = i;
            for k in (i.saturating_sub(3)..i).rev() {
                let x = self.low(k);
                if NEGATIONS.contains(&x) && !matches!(x, "no" | "without") {
                    negated = true;
                    s = s.min(k);
                    break;
                }
                if !matches!(
                    x,
                    "be" | "are"
                        | "is"
                        | "get"
                        | "gets"
                        | "should"
                        | "must"
                        | "will"
                        | "to"
                        | "ever"
                        | "do"
                ) {
                    break;
                }
            }
            while s > 0
                && self.free(s - 1)
                && matches!(
                    self.low(s - 1),
                    "be" | "are"
                        | "is"
                        | "get"
                        | "gets"
                        | "should"
                        | "must"
                        | "will"
                        | "automatically"
                        | "always"
                        | "do"
                        | "to"
                        | "ever"
                )
            {
                s -= 1;
            }
            let act = if block != negated {
                Act::Block
            } else {
                Act::Allow
            };
            self.take(s, i + len);
            self.push(s, What::Act(act));
            i += len;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Record updates: mark as, assign to, cancel, flag, set … to

    fn updates(&mut self) {
        let mut i = 0;
        while i < self.len() {
            let w = self.word(i).to_owned();
            match w.as_str() {
                "mark" | "marks" | "marked" | "tag" | "tags" | "tagged" | "label" | "labelled"
                | "labeled" | "flag" | "flags" | "flagged" | "set" => {
                    let end = self.sentence_end(i);
                    let as_at = (i + 1..end.min(i + 10))
                        .find(|k| self.word(*k) == "as" || (w == "set" && self.word(*k) == "to"));
                    let entity = self.object_entity(i + 1);
                    if let Some(a) = as_at
                        && let Some((value, e)) = self.value_words(a + 1)
                    {
                        let field = if w.starts_with("tag") || w.starts_with("label") {
                            "tags".to_owned()
                        } else if w == "set" {
                            match self.field_between(i + 1, a, &entity) {
                                Some(f) => f,
                                None => {
                                    i += 1;
                                    continue;
                                }
                            }
                        } else {
                            "status".to_owned()
                        };
                        self.take_modal_before(i);
                        self.take(i, i + 1);
                        self.take(a, e);
                        self.push(
                            i,
                            What::Act(Act::Update {
                                entity,
                                field,
                                value: Value::String(value),
                            }),
                        );
                        i = e;
                        continue;
                    }
                    if w.starts_with("flag") {
                        self.take(i, i + 1);
                        self.push(
                            i,
                            What::Act(Act::Update {
                                entity,
                                field: "flagged".into(),
                                value: Value::Bool(true),
                            }),
                        );
                    }
                    i += 1;
                }
                "assign" | "assigns" | "assigned" | "route" | "routes" | "hand" | "reassign" => {
                    let end = self.sentence_end(i);
                    let entity = self.object_entity(i + 1);
                    let to_at = (i + 1..end.min(i + 8)).find(|k| self.word(*k) == "to");
                    if let Some(t) = to_at
                        && let Some((team, e)) = self.team_at(t + 1)
                    {
                        let team = self.known_team(&team, "own it");
                        self.take_modal_before(i);
                        self.take(i, i + 1);
                        // The object ("it", "the lead") goes with the verb.
                        for k in i + 1..t {
                            if matches!(self.low(k), "it" | "them" | "the" | "this")
                                || self.entity_noun(k).is_some()
                            {
                                self.take(k, k + 1);
                            }
                        }
                        self.take(t, e);
                        self.push(
                            i,
                            What::Act(Act::Update {
                                entity,
                                field: "owner".into(),
                                value: Value::String(team),
                            }),
                        );
                        i = e;
                        continue;
                    }
                    i += 1;
                }
                "cancel" | "cancels" | "void" | "voids" => {
                    let mut j = i + 1;
                    while matches!(
                        self.word(j),
                        "the" | "their" | "this" | "that" | "it" | "them"
                    ) {
                        j += 1;
                    }
                    let entity = match self.entity_noun(j) {
                        Some(e) => {
                            j += 1;
                            e.name.clone()
                        }
                        None => self.primary_guess(),
                    };
                    self.take(i, j);
                    self.push(
                        i,
                        What::Act(Act::Update {
                            entity,
                            field: "status".into(),
                            value: Value::String("cancelled".into()),
                        }),
                    );
                    i = j;
                }
                _ => i += 1,
            }
        }
    }

    fn take_modal_before(&mut self, i: usize) {
        let mut s = i;
        while s > 0
            && self.free(s - 1)
            && matches!(
                self.low(s - 1),
                "be" | "should" | "must" | "will" | "are" | "is" | "get" | "gets"
            )
        {
            s -= 1;
        }
        self.take(s, i);
    }

    /// The entity an action acts on: the noun right after the verb, else the prompt's.
    fn object_entity(&self, i: usize) -> String {
        let mut j = i;
        while DETERMINERS.contains(&self.low(j)) {
            j += 1;
        }
        match self.entity_noun(j) {
            Some(e) => e.name.clone(),
            None => self.primary_guess(),
        }
    }

    /// The field named between two positions ("set the deal stage to …").
    fn field_between(&self, a: usize, b: usize, entity: &str) -> Option<String> {
        let e = self.lex.entity(entity)?;
        (a..b).find_map(|k| {
            let w = self.low(k);
            e.fields
                .iter()
                .find(|f| f.name == w || f.words.iter().any(|x| x == w))
                .map(|f| f.name.clone())
        })
    }

    /// One or two words of a value ("qualified", "high priority"), snake_cased.
    fn value_words(&self, i: usize) -> Option<(String, usize)> {
        let mut j = i;
        while matches!(self.low(j), "a" | "an" | "the") {
            j += 1;
        }
        let mut words = Vec::new();
        while j < self.len() && words.len() < 2 {
            let t = &self.t[j];
            if !self.free(j) || !matches!(t.kind, Kind::Word | Kind::Quoted) {
                break;
            }
            if t.kind == Kind::Word
                && (STOP.contains(&t.low.as_str()) || ACTION_VERBS.contains(&t.low.as_str()))
            {
                break;
            }
            words.push(t.low.replace([' ', '-'], "_"));
            j += 1;
        }
        (!words.is_empty()).then(|| (words.join("_"), j))
    }
}
