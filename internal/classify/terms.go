package classify

// Field-name vocabulary. A term is one or more lower-case tokens (the field
// name is split on separators and camelCase, so "accessToken",
// "access_token", "access-token" and "Access Token" all read "access
// token"); multi-token terms also match their joined form ("accesstoken").
// The number after a term is the confidence that a field so named holds the
// class. Non-English names are a deliberate part of the list.
var fieldTerms = map[class][]string{
	cEmail: {
		"email:0.95", "e mail:0.95", "mail:0.8", "email address:0.95", "mail address:0.9",
		"emails:0.95", "contact email:0.95", "correo:0.9", "correo electronico:0.95",
		"correo electrónico:0.95", "courriel:0.95", "adresse mail:0.95", "adresse email:0.95",
		"e post:0.85", "epost:0.85", "posta elettronica:0.9", "mailadresse:0.95",
	},
	cPassword: {
		"password:0.9", "passwd:0.9", "pwd:0.85", "pass:0.7", "passphrase:0.9", "passcode:0.8",
		"passwort:0.9", "kennwort:0.9", "contrasena:0.9", "contraseña:0.9", "clave:0.6",
		"mot de passe:0.9", "motdepasse:0.9", "mdp:0.7", "senha:0.9", "wachtwoord:0.9",
		"parola:0.6", "haslo:0.85", "hasło:0.9", "пароль:0.9", "user password:0.9",
		"login password:0.9", "wifi password:0.9", "wifi pass:0.85", "wlan password:0.9",
		"plain password:0.95", "plaintext password:0.95", "cleartext password:0.95",
	},
	cPasswordHash: {
		"password hash:0.95", "passwd hash:0.95", "pwd hash:0.95", "pass hash:0.9",
		"hashed password:0.95", "password digest:0.95", "encrypted password:0.9",
		"crypted password:0.95", "password encrypted:0.9", "password hashed:0.95",
		"password sha1:0.95", "password md5:0.95", "password bcrypt:0.95", "password crypt:0.95",
		"passwort hash:0.95", "hash contrasena:0.95", "pw hash:0.9", "pwhash:0.9",
	},
	cUsername: {
		"username:0.9", "user name:0.9", "user:0.6", "login:0.75", "login name:0.9", "user login:0.9",
		"handle:0.7", "screen name:0.9", "screenname:0.9", "nickname:0.8", "nick:0.7",
		"account name:0.8", "benutzername:0.9", "benutzer:0.7", "usuario:0.8",
		"nombre de usuario:0.9", "nombre usuario:0.9", "nom utilisateur:0.9", "nom d utilisateur:0.9",
		"utilisateur:0.7", "identifiant:0.7", "utente:0.7", "nome utente:0.9",
		"gebruikersnaam:0.9", "login id:0.8",
	},
	cPersonName: {
		"full name:0.9", "first name:0.9", "last name:0.9", "surname:0.9", "given name:0.9",
		"family name:0.9", "middle name:0.9", "display name:0.7", "real name:0.9",
		"forename:0.9", "fname:0.8", "lname:0.8", "person name:0.9", "customer name:0.9",
		"contact name:0.9", "cardholder name:0.9", "card holder name:0.9", "holder name:0.85",
		"account holder:0.85", "owner name:0.85", "recipient name:0.9", "billing name:0.9",
		"shipping name:0.9", "patient name:0.95", "employee name:0.9", "member name:0.9",
		"nombre:0.8", "apellido:0.9", "apellidos:0.9", "nombre completo:0.95", "vorname:0.9",
		"nachname:0.9", "familienname:0.9", "prenom:0.9", "prénom:0.9", "nom de famille:0.9",
		"nome:0.75", "cognome:0.9", "nome completo:0.95", "voornaam:0.9", "achternaam:0.9",
	},
	cAuthToken: {
		"token:0.8", "tokens:0.8", "access token:0.95", "refresh token:0.95", "session token:0.95",
		"session id:0.9", "sessionid:0.9", "session:0.7", "session key:0.9", "login token:0.95",
		"auth token:0.95", "authentication token:0.95", "authorization:0.85", "bearer:0.9",
		"bearer token:0.95", "id token:0.9", "api token:0.9", "jwt:0.9", "cookie:0.7",
		"remember token:0.95", "remember me token:0.95", "reset token:0.9",
		"password reset token:0.95", "oauth token:0.95", "device token:0.85", "push token:0.85",
		"camera token:0.9", "account token:0.9", "user token:0.9", "jsessionid:0.95",
		"phpsessid:0.95", "sid:0.7", "connect sid:0.9", "auth:0.6", "credential:0.6",
		"credentials:0.6", "ticket:0.6", "nonce:0.5", "otp secret:0.8", "totp secret:0.9",
	},
	cAPIKey: {
		"api key:0.95", "apikey:0.95", "x api key:0.95", "api secret:0.95", "api secret key:0.95",
		"client secret:0.95", "secret key:0.9", "secret:0.75", "access key:0.85",
		"access key id:0.9", "secret access key:0.95", "aws secret access key:0.95",
		"private key:0.9", "app secret:0.9", "app key:0.75", "consumer secret:0.9",
		"consumer key:0.8", "signing key:0.9", "signing secret:0.9", "webhook secret:0.9",
		"encryption key:0.85", "master key:0.85", "account key:0.85", "storage key:0.85",
		"service account key:0.9", "license key:0.5", "stripe key:0.9", "aws key:0.9",
		"gcp key:0.9", "azure key:0.9", "github token:0.95", "slack token:0.95", "pat:0.6",
	},
	cWifiSSID: {
		"ssid:0.95", "essid:0.95", "wifi ssid:0.95", "wifi name:0.95", "wlan name:0.95",
		"wifi network:0.9", "wlan ssid:0.95", "wifi:0.8", "wlan:0.8", "wifi network name:0.95",
		"network ssid:0.95", "hotspot name:0.9", "wlan netz:0.9", "red wifi:0.9",
		"nombre red:0.8", "reseau wifi:0.9", "home wifi:0.9", "wifi ap:0.85",
	},
	cDeviceID: {
		"device id:0.9", "deviceid:0.9", "device uuid:0.95", "device serial:0.95",
		"serial:0.8", "serial number:0.9", "serialno:0.9", "serial no:0.9", "sn:0.5",
		"imei:0.95", "imsi:0.9", "meid:0.9", "udid:0.95", "android id:0.95", "advertising id:0.95",
		"idfa:0.95", "idfv:0.95", "ad id:0.8", "gaid:0.9", "hardware id:0.9", "hwid:0.9",
		"camera id:0.9", "camera uuid:0.9", "camera serial:0.95", "device serial number:0.95",
		"installation id:0.85", "install id:0.85", "client id:0.5", "machine id:0.85",
		"sensor id:0.8", "mac id:0.6", "device key:0.7", "geräte id:0.9", "gerate id:0.9",
	},
	cDeviceModel: {
		"device model:0.95", "model:0.75", "model name:0.85", "model number:0.85",
		"camera model:0.95", "camera type:0.8", "hardware model:0.95", "phone model:0.95",
		"device name:0.75", "device type:0.6", "product model:0.9", "hw model:0.9",
		"modelo:0.8", "modell:0.8", "modele:0.8", "modèle:0.8", "handset:0.8",
	},
	cMAC: {
		"mac:0.9", "mac address:0.95", "macaddress:0.95", "macaddr:0.95", "bssid:0.95",
		"hw addr:0.9", "hwaddr:0.9", "hardware address:0.9", "ether:0.7", "ethernet address:0.9",
		"wifi mac:0.95", "bt addr:0.8", "bluetooth address:0.85", "adresse mac:0.95",
		"direccion mac:0.95",
	},
	cIP: {
		"ip:0.9", "ip address:0.95", "ipaddress:0.95", "ipaddr:0.95", "ipv4:0.95", "ipv6:0.95",
		"client ip:0.95", "remote ip:0.95", "remote addr:0.9", "remote address:0.9",
		"source ip:0.95", "src ip:0.95", "dst ip:0.9", "dest ip:0.9", "last ip:0.95",
		"last login ip:0.95", "login ip:0.95", "x forwarded for:0.9", "forwarded for:0.9",
		"host ip:0.9", "peer ip:0.9", "public ip:0.95", "private ip:0.9", "wan ip:0.95",
		"lan ip:0.9", "user ip:0.95", "signup ip:0.95", "register ip:0.95", "adresse ip:0.95",
		"direccion ip:0.95", "clientip:0.95", "remoteip:0.95", "ip addr:0.95",
	},
	cPhone: {
		"phone:0.9", "phone number:0.95", "phones:0.9", "telephone:0.9", "tel:0.8", "mobile:0.8",
		"mobile number:0.95", "mobile phone:0.95", "cell:0.6", "cellphone:0.9", "cell phone:0.9",
		"msisdn:0.95", "fax:0.8", "telefon:0.9", "telefonnummer:0.95", "telefono:0.9",
		"teléfono:0.9", "handy:0.7", "handynummer:0.95", "portable:0.6", "movil:0.8", "móvil:0.8",
		"celular:0.9", "whatsapp:0.8", "contact number:0.9", "phone no:0.95", "tel no:0.9",
		"numero telephone:0.95", "numéro de téléphone:0.95", "numero de telephone:0.95",
		"home phone:0.95", "work phone:0.95",
	},
	cPostalAddress: {
		"address:0.75", "street:0.85", "street address:0.95", "address line:0.95",
		"address line1:0.95", "address line2:0.9", "address1:0.9", "address2:0.85", "addr:0.6",
		"home address:0.95", "postal address:0.95", "mailing address:0.95",
		"billing address:0.95", "shipping address:0.95", "delivery address:0.95",
		"strasse:0.9", "straße:0.9", "adresse:0.8", "anschrift:0.9", "direccion:0.8",
		"dirección:0.8", "domicilio:0.9", "indirizzo:0.85", "endereco:0.85", "endereço:0.85",
		"calle:0.8", "rue:0.7", "postal code:0.6", "postcode:0.6", "zip code:0.6", "zipcode:0.6",
		"zip:0.55", "plz:0.6", "codigo postal:0.6", "code postal:0.6",
	},
	cGeo: {
		"location:0.8", "geo:0.85", "geo location:0.95", "geolocation:0.95", "geopoint:0.95",
		"geo point:0.95", "coordinates:0.9", "coords:0.9", "coordinate:0.9", "latlng:0.95",
		"latlon:0.95", "lat lon:0.95", "lat lng:0.95", "lat long:0.95", "gps:0.9",
		"position:0.6", "lat:0.85", "latitude:0.95", "lon:0.85", "lng:0.85", "long:0.6",
		"longitude:0.95", "last location:0.9", "home location:0.95", "standort:0.9",
		"ubicacion:0.9", "ubicación:0.9", "posizione:0.8", "geo coordinates:0.95",
		"geo lat:0.95", "geo lon:0.95",
	},
	cDOB: {
		"dob:0.95", "date of birth:0.95", "birth date:0.95", "birthdate:0.95", "birthday:0.9",
		"birth:0.85", "born:0.8", "born on:0.9", "birth day:0.9", "geburtsdatum:0.95",
		"geburtstag:0.9", "fecha de nacimiento:0.95", "fecha nacimiento:0.95", "nacimiento:0.85",
		"date de naissance:0.95", "naissance:0.85", "data di nascita:0.95", "data nascimento:0.95",
		"data de nascimento:0.95", "geboortedatum:0.95", "bday:0.85",
	},
	cCard: {
		"card number:0.95", "cardnumber:0.95", "card no:0.95", "card num:0.95", "cc number:0.95",
		"cc num:0.95", "ccnum:0.95", "ccnumber:0.95", "credit card:0.95", "creditcard:0.95",
		"credit card number:0.95", "debit card:0.95", "pan:0.8", "card:0.7", "card pan:0.95",
		"kartennummer:0.95", "kreditkarte:0.95", "numero tarjeta:0.95", "tarjeta:0.85",
		"numero de tarjeta:0.95", "numero carte:0.95", "carte bancaire:0.95", "cartao:0.85",
		"payment card:0.95",
	},
	cBank: {
		"iban:0.95", "bank account:0.9", "account number:0.75", "acct number:0.8", "acct no:0.8",
		"bank account number:0.95", "routing number:0.8", "sort code:0.7", "kontonummer:0.9",
		"bankverbindung:0.85", "numero de cuenta:0.9", "cuenta bancaria:0.9", "rib:0.7",
		"bank acct:0.9",
	},
	cNationalID: {
		"ssn:0.95", "social security:0.95", "social security number:0.95", "national id:0.9",
		"nationalid:0.9", "national insurance number:0.95", "nino:0.9", "nin:0.7", "tax id:0.85",
		"taxid:0.85", "tin:0.6", "dni:0.9", "nie:0.8", "nif:0.85", "cpf:0.9", "passport:0.85",
		"passport number:0.95", "passport no:0.95", "personalausweis:0.95", "ausweisnummer:0.95",
		"steuer id:0.9", "steuernummer:0.8", "codice fiscale:0.95", "id card number:0.9",
		"id number:0.6", "national identity number:0.95", "sozialversicherungsnummer:0.95",
		"numero seguridad social:0.95", "insee:0.8", "personnummer:0.95", "bsn:0.8", "pesel:0.95",
	},
}

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
	"forgot", "csrf", "xsrf",
)

// negAfterOK lists, per class, tokens that negAfter would drop but that
// keep their meaning for that class ("device_id", "password_hash").
var negAfterOK = map[class]map[string]bool{
	cDeviceID:      toSet("id", "uuid", "key"),
	cAuthToken:     toSet("key"),
	cPassword:      toSet(),
	cDeviceModel:   toSet("name"),
	cWifiSSID:      toSet("name", "network"),
	cPersonName:    toSet("name"),
	cUsername:      toSet("name"),
	cPostalAddress: toSet("city", "country"),
	cGeo:           toSet("lat", "lon"),
}

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

func toSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
