//! What a value is about: read from an `x-faker` name or guessed from a property name (snake_case,
//! camelCase and kebab-case alike), so that the generator can pick a believable value.

use serde_json::Value;

/// The kind of real-world value a schema or property stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    FirstName,
    LastName,
    FullName,
    Username,
    Email,
    Phone,
    Company,
    JobTitle,
    Street,
    City,
    State,
    Country,
    CountryCode,
    PostCode,
    TimeZone,
    Locale,
    Language,
    Currency,
    Url,
    Domain,
    Hostname,
    Avatar,
    Image,
    Title,
    Label,
    Description,
    Paragraph,
    Word,
    Slug,
    Password,
    Token,
    Uuid,
    Id,
    Ip,
    Ipv6,
    Color,
    MimeType,
    Version,
    /// When the record was created: the earliest timestamp of a record.
    Created,
    /// A timestamp between creation and now (updates, logins, generic `*_at`).
    Recent,
    /// Any moment in the past year, unrelated to creation.
    Past,
    Future,
    BirthDate,
    Age,
    Year,
    Count,
    Amount,
    Percent,
    Latitude,
    Longitude,
    Port,
    Number,
    Boolean,
    /// A flag that is usually true (`active`, `enabled`, `verified`).
    Active,
    /// A flag that is usually false (`deleted`, `disabled`, `locked`).
    Inactive,
}

impl Hint {
    /// Whether the hint describes a moment in time.
    pub(crate) fn is_time(self) -> bool {
        matches!(
            self,
            Hint::Created | Hint::Recent | Hint::Past | Hint::Future | Hint::BirthDate
        )
    }
}

/// The hint an `x-faker` value names (a string such as `name.firstName`, or an object whose first
/// key is the name); `None` for names it does not know, so that the usual choice applies.
pub(crate) fn from_faker(value: &Value) -> Option<Hint> {
    let name = match value {
        Value::String(name) => name.as_str(),
        Value::Object(map) => map.keys().next()?.as_str(),
        _ => return None,
    };
    let normalized: String = name
        .trim()
        .trim_start_matches("faker.")
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let (module, function) = normalized
        .split_once('.')
        .unwrap_or(("", normalized.as_str()));
    let module = match module {
        "person" => "name",
        "location" => "address",
        "string" | "random" | "number" => "datatype",
        other => other,
    };
    Some(match (module, function) {
        ("name", "firstname" | "first") => Hint::FirstName,
        ("name", "lastname" | "last" | "surname") => Hint::LastName,
        ("name", "fullname" | "findname" | "name") => Hint::FullName,
        ("name", "jobtitle" | "title") => Hint::JobTitle,
        ("internet", "email" | "exampleemail" | "safeemail" | "freeemail") => Hint::Email,
        ("internet", "username" | "displayname") => Hint::Username,
        ("internet", "url" | "uri") => Hint::Url,
        ("internet", "avatar") | ("image", "avatar" | "avatarlegacy" | "avatargithub") => {
            Hint::Avatar
        }
        ("image", _) => Hint::Image,
        ("internet", "domainname" | "domain") => Hint::Domain,
        ("internet", "ip" | "ipv4") => Hint::Ip,
        ("internet", "ipv6") => Hint::Ipv6,
        ("internet", "password") => Hint::Password,
        ("internet", "color") | ("color", _) => Hint::Color,
        ("phone", _) => Hint::Phone,
        ("company", "name" | "companyname") => Hint::Company,
        ("address", "streetaddress" | "street" | "streetname") => Hint::Street,
        ("address", "city" | "cityname") => Hint::City,
        ("address", "state" | "county") => Hint::State,
        ("address", "country") => Hint::Country,
        ("address", "countrycode") => Hint::CountryCode,
        ("address", "zipcode" | "postcode" | "zip" | "zipcodebystate") => Hint::PostCode,
        ("address", "timezone") => Hint::TimeZone,
        ("address", "latitude") => Hint::Latitude,
        ("address", "longitude") => Hint::Longitude,
        ("lorem", "sentence" | "sentences") => Hint::Description,
        ("lorem", "paragraph" | "paragraphs" | "text" | "lines") => Hint::Paragraph,
        ("lorem", "word" | "words") => Hint::Word,
        ("lorem", "slug") => Hint::Slug,
        ("datatype", "uuid") => Hint::Uuid,
        ("datatype", "number" | "int" | "integer" | "float") => Hint::Number,
        ("datatype", "boolean") => Hint::Boolean,
        ("date", "past" | "anytime") => Hint::Past,
        ("date", "recent") => Hint::Recent,
        ("date", "future" | "soon") => Hint::Future,
        ("date", "birthdate") => Hint::BirthDate,
        ("commerce" | "finance", "price" | "amount") => Hint::Amount,
        ("finance", "currencycode") => Hint::Currency,
        ("system", "mimetype") => Hint::MimeType,
        ("system", "semver") => Hint::Version,
        _ => return None,
    })
}

/// The hint a property name suggests; `context` is the name of the object the property belongs
/// to (its component name, or the property that holds it), which tells a person's `name` from a
/// company's.
pub(crate) fn from_name(name: &str, context: Option<&str>) -> Option<Hint> {
    let tokens = tokens(name);
    if tokens.is_empty() {
        return None;
    }
    let words: Vec<&str> = tokens.iter().map(String::as_str).collect();
    if let Some(hint) = from_tokens(&words, context) {
        return Some(hint);
    }
    // A plural names a list of the singular thing (`emails`, `phone_numbers`, `addresses`).
    let last = words.last().copied().unwrap_or_default();
    let singular = singular(last)?;
    let mut singular_words = words.clone();
    let end = singular_words.len() - 1;
    singular_words[end] = singular.as_str();
    from_tokens(&singular_words, context)
}

/// Splits a name into lowercase words at `_`, `-`, spaces, dots and camelCase humps.
pub(crate) fn tokens(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let previous = chars[index - 1];
            let next_is_lower = chars.get(index + 1).is_some_and(|n| n.is_lowercase());
            if previous.is_lowercase()
                || previous.is_ascii_digit()
                || (previous.is_uppercase() && next_is_lower)
            {
                tokens.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// A name with case and separators removed, so that `first_name`, `firstName` and `FirstName`
/// compare equal.
pub(crate) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn singular(word: &str) -> Option<String> {
    if word.len() < 3 || word.ends_with("ss") || word.ends_with("us") {
        return None;
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return Some(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("sses") {
        return Some(format!("{stem}ss"));
    }
    if word.ends_with("ses") || word.ends_with("xes") || word.ends_with("ches") {
        return Some(word[..word.len() - 2].to_owned());
    }
    word.strip_suffix('s').map(str::to_owned)
}

const PERSON_CONTEXTS: &[&str] = &[
    "user",
    "person",
    "people",
    "member",
    "owner",
    "author",
    "customer",
    "contact",
    "employee",
    "admin",
    "actor",
    "profile",
    "invitee",
    "recipient",
    "sender",
    "assignee",
    "creator",
    "requester",
    "reviewer",
    "manager",
    "guest",
    "participant",
    "attendee",
    "patient",
    "student",
    "teacher",
    "candidate",
    "player",
    "client",
    "me",
    "account",
];

const COMPANY_CONTEXTS: &[&str] = &[
    "company",
    "organization",
    "organisation",
    "org",
    "team",
    "workspace",
    "vendor",
    "tenant",
    "business",
    "brand",
    "employer",
    "merchant",
    "supplier",
    "partner",
    "agency",
];

fn from_tokens(words: &[&str], context: Option<&str>) -> Option<Hint> {
    let has = |word: &str| words.contains(&word);
    let last = *words.last()?;
    let first = words[0];
    let joined: String = words.concat();

    // Time zones, locales and languages before anything that looks at `time` or `name`.
    if matches!(joined.as_str(), "timezone" | "tz" | "tzname" | "zoneinfo")
        || (has("time") && has("zone"))
        || last == "timezone"
        || last == "tz"
    {
        return Some(Hint::TimeZone);
    }
    if has("locale") {
        return Some(Hint::Locale);
    }
    if matches!(last, "language" | "lang" | "languages") {
        return Some(Hint::Language);
    }

    if let Some(hint) = time_hint(words, &joined) {
        return Some(hint);
    }

    // People.
    if has("email") || has("mail") || joined.ends_with("email") {
        return Some(Hint::Email);
    }
    if (has("first") && has("name"))
        || matches!(joined.as_str(), "firstname" | "forename")
        || (has("given") && (has("name") || words.len() == 1))
    {
        return Some(Hint::FirstName);
    }
    if (has("last") && has("name"))
        || has("surname")
        || has("lastname")
        || (has("family") && has("name"))
    {
        return Some(Hint::LastName);
    }
    if matches!(
        joined.as_str(),
        "username" | "login" | "handle" | "nickname" | "screenname" | "nick"
    ) {
        return Some(Hint::Username);
    }
    if (has("company") || has("organization") || has("organisation") || has("employer"))
        && (last == "name" || words.len() == 1)
    {
        return Some(Hint::Company);
    }
    if (has("job") && has("title")) || matches!(last, "occupation" | "profession" | "jobtitle") {
        return Some(Hint::JobTitle);
    }
    if has("phone")
        || has("mobile")
        || has("telephone")
        || has("tel")
        || has("fax")
        || has("msisdn")
        || (has("cell") && words.len() <= 2)
    {
        return Some(Hint::Phone);
    }

    // Addresses and places.
    if has("country") {
        return Some(if has("code") || has("iso") || has("alpha2") {
            Hint::CountryCode
        } else {
            Hint::Country
        });
    }
    if has("zip")
        || has("zipcode")
        || has("postcode")
        || has("postal")
        || (has("post") && has("code"))
    {
        return Some(Hint::PostCode);
    }
    if has("city") || has("town") || has("locality") {
        return Some(Hint::City);
    }
    if has("province") || has("region") || (last == "state" && has("address")) {
        return Some(Hint::State);
    }
    if has("street")
        || joined.starts_with("addressline")
        || matches!(
            joined.as_str(),
            "address" | "address1" | "address2" | "line1" | "line2"
        )
    {
        return Some(Hint::Street);
    }
    if has("currency") {
        return Some(Hint::Currency);
    }

    // Pictures before URLs, so that `avatar_url` is a picture.
    if has("avatar") || has("picture") || has("photo") || has("gravatar") || has("headshot") {
        return Some(Hint::Avatar);
    }
    if has("image") || has("thumbnail") || has("logo") || has("icon") || has("banner") || has("img")
    {
        return Some(Hint::Image);
    }
    if has("url")
        || has("uri")
        || has("link")
        || has("href")
        || has("website")
        || has("homepage")
        || last == "site"
    {
        return Some(Hint::Url);
    }
    if has("hostname") || last == "host" {
        return Some(Hint::Hostname);
    }
    if has("domain") {
        return Some(Hint::Domain);
    }
    if has("ipv6") {
        return Some(Hint::Ipv6);
    }
    if has("ip") || has("ipv4") || joined == "ipaddress" {
        return Some(Hint::Ip);
    }

    // Texts.
    if last == "title" || joined == "headline" || joined == "subject" {
        return Some(Hint::Title);
    }
    if matches!(
        last,
        "bio" | "about" | "biography" | "body" | "content" | "text"
    ) {
        return Some(Hint::Paragraph);
    }
    if matches!(
        last,
        "description"
            | "desc"
            | "summary"
            | "notes"
            | "note"
            | "comment"
            | "comments"
            | "message"
            | "details"
            | "remark"
            | "remarks"
            | "reason"
            | "caption"
    ) {
        return Some(Hint::Description);
    }
    if last == "slug" {
        return Some(Hint::Slug);
    }
    if matches!(last, "password" | "passwd" | "passphrase" | "pwd") {
        return Some(Hint::Password);
    }
    if matches!(
        last,
        "token"
            | "secret"
            | "key"
            | "apikey"
            | "hash"
            | "signature"
            | "nonce"
            | "checksum"
            | "digest"
            | "fingerprint"
    ) {
        return Some(Hint::Token);
    }
    if matches!(last, "uuid" | "guid") {
        return Some(Hint::Uuid);
    }
    if last == "id" || last == "ids" || joined == "identifier" || joined == "pk" {
        return Some(Hint::Id);
    }
    if matches!(last, "color" | "colour") {
        return Some(Hint::Color);
    }
    if has("mime") || (has("content") && has("type")) || joined == "mimetype" {
        return Some(Hint::MimeType);
    }
    if matches!(last, "version" | "semver") {
        return Some(Hint::Version);
    }
    if last == "name" {
        let context = context.map(tokens).unwrap_or_default();
        let context_has = |list: &[&str]| context.iter().any(|word| list.contains(&word.as_str()));
        if words.len() == 1 || has("full") || has("display") || has("real") {
            if context.is_empty() || context_has(PERSON_CONTEXTS) {
                return Some(Hint::FullName);
            }
            if context_has(COMPANY_CONTEXTS) {
                return Some(Hint::Company);
            }
        }
        return Some(Hint::Label);
    }

    // Numbers and flags.
    if last == "age" {
        return Some(Hint::Age);
    }
    if last == "year" {
        return Some(Hint::Year);
    }
    if matches!(last, "latitude" | "lat") {
        return Some(Hint::Latitude);
    }
    if matches!(last, "longitude" | "lng" | "lon" | "long") {
        return Some(Hint::Longitude);
    }
    if last == "port" {
        return Some(Hint::Port);
    }
    if matches!(
        last,
        "price"
            | "cost"
            | "amount"
            | "balance"
            | "fee"
            | "salary"
            | "revenue"
            | "subtotal"
            | "tax"
            | "discount"
    ) {
        return Some(Hint::Amount);
    }
    if matches!(last, "percent" | "percentage" | "ratio" | "rate") {
        return Some(Hint::Percent);
    }
    if matches!(
        last,
        "count"
            | "total"
            | "quantity"
            | "qty"
            | "size"
            | "length"
            | "number"
            | "num"
            | "limit"
            | "page"
            | "rank"
            | "position"
            | "order"
            | "score"
            | "level"
            | "retries"
            | "attempts"
    ) || first == "num"
    {
        return Some(Hint::Count);
    }
    const TRUE_FLAGS: &[&str] = &[
        "active",
        "enabled",
        "verified",
        "confirmed",
        "visible",
        "public",
        "available",
        "valid",
        "approved",
        "published",
    ];
    const FALSE_FLAGS: &[&str] = &[
        "deleted",
        "disabled",
        "archived",
        "banned",
        "locked",
        "suspended",
        "blocked",
        "hidden",
        "deactivated",
        "expired",
        "revoked",
        "staff",
        "superuser",
    ];
    if TRUE_FLAGS.contains(&last) {
        return Some(Hint::Active);
    }
    if FALSE_FLAGS.contains(&last) {
        return Some(Hint::Inactive);
    }
    None
}

/// Timestamps: `*_at` / `*At` / `*_on`, `date_joined`, `last_login`, `expires`, birth dates.
fn time_hint(words: &[&str], joined: &str) -> Option<Hint> {
    let has = |word: &str| words.contains(&word);
    let last = *words.last()?;
    let is_time = matches!(
        last,
        "at" | "on" | "date" | "time" | "timestamp" | "datetime" | "ts"
    ) || has("date")
        || matches!(
            joined,
            "lastlogin"
                | "lastseen"
                | "lastactive"
                | "lastused"
                | "lastaccess"
                | "created"
                | "updated"
                | "modified"
                | "lastmodified"
                | "expires"
                | "expiry"
                | "expiration"
                | "birthday"
                | "birthdate"
                | "dob"
                | "deleted"
        );
    if !is_time {
        return None;
    }
    if has("birth") || has("birthday") || has("birthdate") || joined == "dob" || has("born") {
        return Some(Hint::BirthDate);
    }
    const CREATED: &[&str] = &[
        "created",
        "creation",
        "inserted",
        "registered",
        "joined",
        "signup",
        "signed",
        "added",
        "opened",
        "issued",
        "create",
        "insert",
        "start",
        "started",
        "begin",
        "since",
    ];
    const FUTURE: &[&str] = &[
        "expires",
        "expiry",
        "expiration",
        "expire",
        "due",
        "deadline",
        "until",
        "end",
        "ends",
        "next",
        "scheduled",
        "renewal",
        "renews",
        "valid",
        "upcoming",
    ];
    if words.iter().any(|word| CREATED.contains(word)) {
        return Some(Hint::Created);
    }
    if words.iter().any(|word| FUTURE.contains(word)) {
        return Some(Hint::Future);
    }
    Some(Hint::Recent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_split_snake_camel_and_acronyms() {
        assert_eq!(tokens("first_name"), ["first", "name"]);
        assert_eq!(tokens("firstName"), ["first", "name"]);
        assert_eq!(tokens("avatarURL"), ["avatar", "url"]);
        assert_eq!(tokens("HTTPStatus"), ["http", "status"]);
        assert_eq!(tokens("date-joined"), ["date", "joined"]);
    }

    #[test]
    fn names_give_hints_in_both_cases() {
        for (name, hint) in [
            ("first_name", Hint::FirstName),
            ("firstName", Hint::FirstName),
            ("last_name", Hint::LastName),
            ("email_address", Hint::Email),
            ("emailAddress", Hint::Email),
            ("time_zone", Hint::TimeZone),
            ("timezone", Hint::TimeZone),
            ("created_at", Hint::Created),
            ("createdAt", Hint::Created),
            ("updatedAt", Hint::Recent),
            ("date_joined", Hint::Created),
            ("last_login", Hint::Recent),
            ("expires_at", Hint::Future),
            ("avatar_url", Hint::Avatar),
            ("profilePicture", Hint::Avatar),
            ("website", Hint::Url),
            ("postal_code", Hint::PostCode),
            ("country_code", Hint::CountryCode),
            ("phone_numbers", Hint::Phone),
            ("roleId", Hint::Id),
            ("id", Hint::Id),
            ("locale", Hint::Locale),
            ("language", Hint::Language),
            ("company", Hint::Company),
            ("is_active", Hint::Active),
        ] {
            assert_eq!(from_name(name, None), Some(hint), "{name}");
        }
    }

    #[test]
    fn a_name_depends_on_whose_it_is() {
        assert_eq!(from_name("name", Some("User")), Some(Hint::FullName));
        assert_eq!(from_name("name", Some("Organization")), Some(Hint::Company));
        assert_eq!(from_name("name", Some("Role")), Some(Hint::Label));
    }

    #[test]
    fn faker_names_and_aliases_are_read() {
        assert_eq!(from_faker(&json!("name.firstName")), Some(Hint::FirstName));
        assert_eq!(
            from_faker(&json!("person.firstName")),
            Some(Hint::FirstName)
        );
        assert_eq!(from_faker(&json!("address.timeZone")), Some(Hint::TimeZone));
        assert_eq!(
            from_faker(&json!("location.timeZone")),
            Some(Hint::TimeZone)
        );
        assert_eq!(from_faker(&json!({"datatype.uuid": {}})), Some(Hint::Uuid));
        assert_eq!(from_faker(&json!("no.suchThing")), None);
        assert_eq!(from_faker(&json!(42)), None);
    }
}
