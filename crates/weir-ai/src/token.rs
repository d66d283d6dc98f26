//! The tokenizer: a prompt as words, numbers (with their currency, `k`/`M` suffix, percent and
//! `+`), clock times, e-mail addresses, domains, URLs, Slack channels, quoted text and
//! punctuation. Every token keeps its original spelling (`raw`) beside the lowercase one it is
//! matched by, so codes ("KP") and values ("TEST-") keep their case.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    Number,
    /// A time of day: "9am", "8:30", "17:00", "noon" is a word.
    Clock,
    Email,
    /// A domain or a domain suffix without a user: "tempmail.com", ".ru".
    Domain,
    Url,
    Quoted,
    /// A Slack-style channel: "#sales-alerts".
    Channel,
    Punct,
}

/// A number as written: `$5,000` is 5000 with money, `5k` 5000, `20%` 20 with percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num {
    pub value: f64,
    pub money: bool,
    pub percent: bool,
    /// Written with a trailing `+` ("250k+"): at least this much.
    pub plus: bool,
    /// "1st", "15th".
    pub ordinal: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub raw: String,
    pub low: String,
    pub kind: Kind,
    pub num: Option<Num>,
    /// Hours and minutes of a clock time.
    pub clock: Option<(u32, u32)>,
}

impl Token {
    fn new(raw: &str, kind: Kind) -> Self {
        Token {
            raw: raw.to_owned(),
            low: raw.to_lowercase().replace('’', "'"),
            kind,
            num: None,
            clock: None,
        }
    }

    pub fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }

    pub fn is_punct(&self, c: &str) -> bool {
        self.kind == Kind::Punct && self.raw == c
    }

    /// The word without a possessive ending: "customer's" → "customer", "customers'" →
    /// "customers".
    pub fn stem(&self) -> &str {
        let w = self.low.as_str();
        w.strip_suffix("'s")
            .or_else(|| w.strip_suffix('\''))
            .unwrap_or(w)
    }
}

/// Parses an amount as people write it: "$5,000", "5000", "5k", "$1.5M", "€2,000", "20%",
/// "250k+". Returns `None` for anything else.
pub fn parse_amount(text: &str) -> Option<Num> {
    let toks = tokenize(text);
    match toks.as_slice() {
        [t] if t.kind == Kind::Number => t.num,
        _ => None,
    }
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»' | '`')
}

fn closing(c: char) -> &'static [char] {
    match c {
        '"' | '“' | '”' => &['"', '”', '“'],
        '\'' | '‘' | '’' => &['\'', '’', '‘'],
        '«' => &['»'],
        _ => &['`'],
    }
}

/// Characters allowed inside a word when a word character follows them.
fn joiner(c: char) -> bool {
    matches!(c, '-' | '_' | '\'' | '’' | '.' | '@' | '+' | '/' | '&')
}

pub fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let slice = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    let starts_with_ci = |i: usize, p: &str| {
        let pc: Vec<char> = p.chars().collect();
        i + pc.len() <= n
            && chars[i..i + pc.len()]
                .iter()
                .zip(&pc)
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
    };
    while i < n {
        let c = chars[i];
        if c == '\n' {
            out.push(Token::new("\n", Kind::Punct));
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // URLs.
        if starts_with_ci(i, "http://") || starts_with_ci(i, "https://") {
            let mut j = i;
            while j < n && !chars[j].is_whitespace() {
                j += 1;
            }
            while j > i
                && matches!(
                    chars[j - 1],
                    '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\''
                )
            {
                j -= 1;
            }
            let mut t = Token::new(&slice(i, j), Kind::Url);
            t.low = t.raw.clone();
            out.push(t);
            i = j;
            continue;
        }
        // Quoted text (an apostrophe inside a word is not a quote).
        if is_quote(c) && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let ends = closing(c);
            let mut j = i + 1;
            let mut found = None;
            while j < n && j <= i + 81 {
                if ends.contains(&chars[j]) && (j + 1 == n || !chars[j + 1].is_alphanumeric()) {
                    found = Some(j);
                    break;
                }
                if chars[j] == '\n' {
                    break;
                }
                j += 1;
            }
            if let Some(j) = found.filter(|j| *j > i + 1) {
                let mut t = Token::new(&slice(i + 1, j), Kind::Quoted);
                t.low = t.raw.to_lowercase();
                out.push(t);
                i = j + 1;
                continue;
            }
            i += 1;
            continue;
        }
        // Channels.
        if c == '#' && i + 1 < n && chars[i + 1].is_alphanumeric() {
            let mut j = i + 1;
            while j < n && (chars[j].is_alphanumeric() || matches!(chars[j], '-' | '_')) {
                j += 1;
            }
            out.push(Token::new(&slice(i, j), Kind::Channel));
            i = j;
            continue;
        }
        // Money and numbers.
        let money_sign = matches!(c, '$' | '€' | '£');
        let digit_after_sign = {
            let mut j = i + 1;
            while j < n && chars[j] == ' ' {
                j += 1;
            }
            j < n && chars[j].is_ascii_digit()
        };
        if c.is_ascii_digit() || (money_sign && digit_after_sign) {
            let mut j = i;
            if money_sign {
                j += 1;
                while chars[j] == ' ' {
                    j += 1;
                }
            }
            let (tok, end) = number(&chars, i, j, money_sign);
            out.push(tok);
            i = end;
            continue;
        }
        // Words, e-mail addresses and domains ("@tempmail.com" and ".ru" included).
        let domain_start = matches!(c, '@' | '.')
            && i + 1 < n
            && chars[i + 1].is_alphanumeric()
            && (i == 0 || chars[i - 1].is_whitespace() || chars[i - 1] == '(');
        if c.is_alphanumeric() || domain_start {
            let mut j = i + 1;
            while j < n {
                let d = chars[j];
                if d.is_alphanumeric() {
                    j += 1;
                } else if joiner(d) && j + 1 < n && chars[j + 1].is_alphanumeric() {
                    j += 2;
                } else if d == '-' && (j + 1 == n || !chars[j + 1].is_alphanumeric()) {
                    // A trailing hyphen belongs to a code prefix: "TEST-".
                    let prefix = slice(i, j);
                    if prefix.chars().any(|c| c.is_ascii_uppercase())
                        && prefix.chars().all(|c| !c.is_lowercase())
                    {
                        j += 1;
                    }
                    break;
                } else {
                    break;
                }
            }
            let raw = slice(i, j);
            let kind = if raw.contains('@') {
                Kind::Email
            } else if is_domain(&raw) {
                Kind::Domain
            } else {
                Kind::Word
            };
            let mut t = Token::new(&raw, kind);
            if kind != Kind::Word {
                t.low = raw.to_lowercase();
            }
            out.push(t);
            i = j;
            continue;
        }
        out.push(Token::new(&c.to_string(), Kind::Punct));
        i += 1;
    }
    merge_meridiem(out)
}

/// "tempmail.com", "mail.ru", ".ru": dot-separated labels ending in a 2-6 letter suffix.
fn is_domain(raw: &str) -> bool {
    if !raw.contains('.') || raw.contains('/') || raw.ends_with('.') {
        return false;
    }
    let labels: Vec<&str> = raw.trim_start_matches('.').split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    labels
        .iter()
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && (2..=6).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// Reads a number at `i`: digits with thousands commas and decimals, then a suffix (`k`, `M`,
/// `bn`, `%`, `+`, an ordinal `st`/`nd`/`rd`/`th`, `am`/`pm`), or a clock time `8:30`.
fn number(chars: &[char], raw_start: usize, start: usize, money: bool) -> (Token, usize) {
    let n = chars.len();
    let mut j = start;
    let mut digits = String::new();
    while j < n {
        let c = chars[j];
        if c.is_ascii_digit() {
            digits.push(c);
            j += 1;
        } else if c == ','
            && j + 3 < n + 1
            && chars[j + 1..]
                .iter()
                .take(3)
                .filter(|c| c.is_ascii_digit())
                .count()
                == 3
            && !chars.get(j + 4).is_some_and(|c| c.is_ascii_digit())
        {
            j += 1;
        } else if c == '.'
            && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit())
            && !digits.contains('.')
        {
            digits.push('.');
            j += 1;
        } else {
            break;
        }
    }
    let mut value: f64 = digits.parse().unwrap_or(0.0);
    // A clock time: 8:30, 17:00 (with an optional am/pm).
    if !money
        && chars.get(j) == Some(&':')
        && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit())
        && chars.get(j + 2).is_some_and(|c| c.is_ascii_digit())
        && !digits.contains('.')
    {
        let minutes: u32 = chars[j + 1..j + 3]
            .iter()
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        let mut end = j + 3;
        let hours = value as u32;
        let mut t = Token::new(&chars[start..end].iter().collect::<String>(), Kind::Clock);
        let (h, consumed) = meridiem_at(chars, end, hours);
        end += consumed;
        t.raw = chars[start..end].iter().collect();
        t.low = t.raw.to_lowercase();
        t.clock = Some((h, minutes));
        return (t, end);
    }
    // A suffix glued to the number.
    let word_end = {
        let mut k = j;
        while k < n && chars[k].is_alphabetic() {
            k += 1;
        }
        k
    };
    let suffix: String = chars[j..word_end].iter().collect::<String>();
    let suffix_low = suffix.to_lowercase();
    let mut num = Num {
        value,
        money,
        percent: false,
        plus: false,
        ordinal: false,
    };
    let mut end = j;
    let mut kind = Kind::Number;
    match suffix_low.as_str() {
        "k" => {
            value *= 1000.0;
            end = word_end;
        }
        "m" | "mm" if money || suffix == "M" => {
            value *= 1_000_000.0;
            end = word_end;
        }
        "bn" | "b" if money || suffix == "B" || suffix == "bn" => {
            value *= 1_000_000_000.0;
            end = word_end;
        }
        "st" | "nd" | "rd" | "th" => {
            num.ordinal = true;
            end = word_end;
        }
        "am" | "pm" => {
            kind = Kind::Clock;
        }
        "" => {}
        _ => {
            // "24h", "7d", "1h30m": a duration written as one word.
            let mut k = word_end;
            while k < n && chars[k].is_alphanumeric() {
                k += 1;
            }
            let raw: String = chars[start..k].iter().collect();
            return (Token::new(&raw, Kind::Word), k);
        }
    }
    if kind == Kind::Clock {
        let (h, consumed) = meridiem_at(chars, j, value as u32);
        let end = j + consumed;
        let mut t = Token::new(&chars[start..end].iter().collect::<String>(), Kind::Clock);
        t.clock = Some((h, 0));
        return (t, end);
    }
    if chars.get(end) == Some(&'%') {
        num.percent = true;
        end += 1;
    }
    if chars.get(end) == Some(&'+') {
        num.plus = true;
        end += 1;
    }
    if !num.money && chars.get(end) == Some(&'$') {
        num.money = true;
        end += 1;
    }
    num.value = value;
    let mut t = Token::new(&chars[raw_start..end].iter().collect::<String>(), kind);
    t.num = Some(num);
    (t, end)
}

/// An "am"/"pm" (or "a.m."/"p.m.") right after a time: the hour it makes, and how many
/// characters it took.
fn meridiem_at(chars: &[char], at: usize, hour: u32) -> (u32, usize) {
    let rest: String = chars[at..chars.len().min(at + 6)]
        .iter()
        .collect::<String>()
        .to_lowercase();
    for (p, pm) in [("am", false), ("pm", true), ("a.m.", false), ("p.m.", true)] {
        if rest.starts_with(p)
            && !rest[p.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric())
        {
            return (to_24h(hour, pm), p.chars().count());
        }
    }
    (hour, 0)
}

fn to_24h(hour: u32, pm: bool) -> u32 {
    match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, true) => h + 12,
        (h, false) => h,
    }
}

/// "9 am", "8:30 PM": a meridiem written apart from its number or time.
fn merge_meridiem(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for t in tokens {
        let pm = match t.low.as_str() {
            "am" | "a.m" | "a.m." => Some(false),
            "pm" | "p.m" | "p.m." => Some(true),
            _ => None,
        };
        if let (Some(pm), Some(prev)) = (pm, out.last_mut()) {
            let hour_minute = match prev.kind {
                Kind::Clock => prev.clock,
                Kind::Number => prev
                    .num
                    .filter(|n| !n.money && !n.percent && n.value.fract() == 0.0)
                    .filter(|n| (1.0..=12.0).contains(&n.value))
                    .map(|n| (n.value as u32, 0)),
                _ => None,
            };
            if let Some((h, m)) = hour_minute.filter(|(h, _)| (1..=12).contains(h)) {
                prev.kind = Kind::Clock;
                prev.clock = Some((to_24h(h, pm), m));
                prev.num = None;
                prev.raw = format!("{} {}", prev.raw, t.raw);
                prev.low = prev.raw.to_lowercase();
                continue;
            }
        }
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(s: &str) -> f64 {
        parse_amount(s).map(|n| n.value).unwrap_or(f64::NAN)
    }

    #[test]
    fn amounts_with_signs_commas_and_suffixes() {
        assert_eq!(amount("$5,000"), 5000.0);
        assert_eq!(amount("5000"), 5000.0);
        assert_eq!(amount("5k"), 5000.0);
        assert_eq!(amount("5K"), 5000.0);
        assert_eq!(amount("$1.5M"), 1_500_000.0);
        assert_eq!(amount("$2.5k"), 2500.0);
        assert_eq!(amount("€2,000"), 2000.0);
        assert_eq!(amount("$1,250,000.50"), 1_250_000.5);
        assert_eq!(amount("$ 300"), 300.0);
        let n = parse_amount("$10k").unwrap();
        assert!(n.money && !n.percent);
        let p = parse_amount("20%").unwrap();
        assert!(p.percent && p.value == 20.0);
        let plus = parse_amount("250k+").unwrap();
        assert!(plus.plus && plus.value == 250_000.0);
        assert!(parse_amount("5000$").unwrap().money);
        assert!(parse_amount("1st").unwrap().ordinal);
    }

    #[test]
    fn a_list_of_numbers_is_not_one_number() {
        let t = tokenize("between 1,000 and 5,000");
        let nums: Vec<f64> = t.iter().filter_map(|t| t.num).map(|n| n.value).collect();
        assert_eq!(nums, vec![1000.0, 5000.0]);
        let t = tokenize("10,20");
        assert_eq!(t.iter().filter(|t| t.kind == Kind::Number).count(), 2);
    }

    #[test]
    fn clock_times() {
        let clock = |s: &str| {
            tokenize(s)
                .into_iter()
                .find(|t| t.kind == Kind::Clock)
                .and_then(|t| t.clock)
        };
        assert_eq!(clock("at 9am"), Some((9, 0)));
        assert_eq!(clock("at 9 am"), Some((9, 0)));
        assert_eq!(clock("at 8:30 AM"), Some((8, 30)));
        assert_eq!(clock("at 5pm"), Some((17, 0)));
        assert_eq!(clock("at 12am"), Some((0, 0)));
        assert_eq!(clock("at 12pm"), Some((12, 0)));
        assert_eq!(clock("at 17:45"), Some((17, 45)));
        assert_eq!(clock("at 7:30p.m."), Some((19, 30)));
    }

    #[test]
    fn addresses_domains_urls_channels_and_quotes() {
        let t = tokenize(
            "Email ops@acme.com, block @tempmail.com and mailinator.com or .ru; POST to https://x.example/h?a=1. Ping #sales-alerts if it contains 'test'",
        );
        let kinds: Vec<(Kind, &str)> = t
            .iter()
            .filter(|t| t.kind != Kind::Word && t.kind != Kind::Punct)
            .map(|t| (t.kind, t.raw.as_str()))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Email, "ops@acme.com"),
                (Kind::Email, "@tempmail.com"),
                (Kind::Domain, "mailinator.com"),
                (Kind::Domain, ".ru"),
                (Kind::Url, "https://x.example/h?a=1"),
                (Kind::Channel, "#sales-alerts"),
                (Kind::Quoted, "test"),
            ]
        );
    }

    #[test]
    fn words_keep_apostrophes_hyphens_and_code_prefixes() {
        let t = tokenize("the customer's first-time order doesn't start with TEST- ok.");
        let raw: Vec<&str> = t.iter().map(|t| t.raw.as_str()).collect();
        assert_eq!(
            raw,
            vec![
                "the",
                "customer's",
                "first-time",
                "order",
                "doesn't",
                "start",
                "with",
                "TEST-",
                "ok",
                "."
            ]
        );
        assert_eq!(t[1].stem(), "customer");
    }

    #[test]
    fn durations_written_as_one_word_stay_words() {
        let t = tokenize("wait 24h or 15m");
        assert_eq!(t[1].kind, Kind::Word);
        assert_eq!(t[1].low, "24h");
        assert_eq!(t[3].low, "15m");
    }
}
