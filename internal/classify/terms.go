package classify

// negAfter: a token after the term that turns a field into metadata about
// the thing rather than the thing ("password_changed_at", "email_verified",
// "token_expires", "phone_type", "user_id").
var negAfter = toSet(
	"at", "on", "date", "time", "ts", "timestamp", "count", "counter", "type", "types", "kind",
	"verified", "confirmed", "valid", "validated", "verification", "enabled", "disabled",
	"required", "hint", "policy", "status", "flag", "flags", "changed", "updated", "created",
	"modified", "expires", "expiry", "expiration", "expired", "ttl", "length", "len", "size",
	"format", "domain", "country", "region", "city", "vendor", "version", "scope", "scopes",
	"strength", "attempts", "tries", "set", "is", "has", "enc", "algorithm", "algo", "salt",
	"rounds", "cost", "sent", "opt", "optin", "opted", "preferences", "pref", "prefs",
	"visibility", "visible", "public", "consent", "template", "subject", "body", "provider",
	"label", "index", "idx", "mask", "masked", "last4", "last", "digits", "bin", "brand",
	"network", "issuer", "exp", "expiry month", "month", "year", "field", "column", "path",
	"id", "ids", "uuid", "hash", "hashed", "lookup", "ref", "key", "name", "url", "uri",
	"age", "place", "precision", "accuracy", "source", "method", "mode", "reason",
)

// negBefore: a token before the term that makes the field a flag or a
// count ("is_email", "has_password", "num_phones", "max_tokens").
var negBefore = toSet(
	"is", "has", "num", "max", "min", "total", "count", "allow", "allowed", "use", "uses",
	"require", "requires", "needs", "no", "without", "invalid", "last4", "masked", "hide",
	"show", "enable", "disable", "send", "sent", "verify", "verified", "change", "reset",
	"forgot", "csrf", "xsrf", "page", "pagination", "continuation", "cursor",
)

// Parent words that give a bare leaf ("name", "id", "number") its meaning.
var (
	personParents = toSet("user", "users", "customer", "customers", "person", "people",
		"owner", "contact", "contacts", "account", "profile", "member", "members", "employee",
		"patient", "client", "billing", "shipping", "recipient", "sender", "author", "holder",
		"cardholder", "buyer", "seller", "guest", "subscriber", "student", "driver",
		"passenger", "admin", "staff", "applicant", "beneficiary", "signer", "cliente",
		"kunde", "usuario", "utilisateur", "benutzer", "persona", "personne", "emergency",
		"spouse", "parent", "child", "manager", "doctor", "agent", "tenant", "resident")
	deviceParents = toSet("device", "devices", "camera", "cameras", "cam", "hardware", "phone",
		"handset", "sensor", "sensors", "gadget", "router", "doorbell", "thermostat",
		"dispositivo", "gerat", "geraet", "appareil", "hw", "equipment", "tracker", "watch")
	wifiParents = toSet("wifi", "wlan", "wireless", "hotspot", "ssid", "ap", "wi", "fi",
		"access point", "network", "networks", "wifi network", "red", "reseau", "netz")
	addressParents = toSet("address", "addresses", "addr", "billing address", "shipping address",
		"home address", "postal address", "mailing", "adresse", "direccion", "anschrift",
		"residence", "domicile")
	phoneParents  = toSet("phone", "phones", "telephone", "mobile", "tel", "contact phone")
	geoParents    = toSet("location", "geo", "coordinates", "coords", "gps", "position", "geopoint", "geo point", "latlng", "point", "pin")
	cardParents   = toSet("card", "cards", "credit card", "payment", "payment method", "cc", "tarjeta", "carte")
	tokenParents  = toSet("token", "tokens", "session", "sessions", "auth", "oauth", "credentials", "jwt")
	passwdParents = toSet("password", "passwd", "pwd", "credentials", "credential", "passwort")
	// generic leaves that inherit the parent's meaning ("email.primary",
	// "phones[].value").
	inheritLeaves = toSet("value", "val", "text", "raw", "data", "primary", "secondary", "current",
		"main", "home", "work", "personal", "business", "other", "string", "str", "plain",
		"plaintext", "clear", "new", "old", "previous", "original", "display", "full",
		"e164", "formatted", "national", "international", "number", "address", "default", "v",
		"0", "1", "2", "3")
	// non-person "name" owners: a name under them is no person.
	thingParents = toSet("product", "products", "file", "files", "index", "indices", "app",
		"application", "service", "host", "hostname", "server", "cluster", "node", "company",
		"organization", "organisation", "org", "team", "group", "project", "repo", "repository",
		"bucket", "table", "database", "db", "schema", "column", "field", "event", "events",
		"job", "task", "queue", "topic", "category", "tag", "tags", "brand", "city", "country",
		"region", "store", "shop", "item", "items", "plan", "role", "roles", "type", "kind",
		"model", "firmware", "os", "browser", "package", "image", "container", "pod", "metric",
		"setting", "settings", "config", "feature", "campaign", "list", "template", "module",
		"plugin", "vendor", "manufacturer", "merchant", "bank", "carrier", "network")
)

// thingLeaves name what is no person when the field is read by value alone.
var thingLeaves = toSet("title", "label", "subject", "description", "desc", "caption", "summary", "headline",
	"street", "town", "locality", "state", "province", "nationality", "language", "lang", "currency",
	"color", "colour", "genre", "species", "breed", "os", "platform", "agent", "ua", "useragent",
	"manufacturer", "make", "model", "series", "edition")

func toSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
