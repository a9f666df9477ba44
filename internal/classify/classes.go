package classify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// class is a data class from the finding vocabulary (README.md, "The finding
// contract", class vocabulary; the names are the Class* constants below).
// The numeric form keeps per-value bookkeeping in bit sets instead of maps.
type class uint8

const (
	cEmail class = iota
	cPersonName
	cUsername
	cPassword
	cPasswordHash
	cAuthToken
	cAPIKey
	cWifiSSID
	cDeviceID
	cDeviceModel
	cMAC
	cIP
	cPhone
	cPostalAddress
	cGeo
	cDOB
	cCard
	cBank
	cNationalID
	numClasses
)

// Class names, exactly as in the finding contract.
const (
	ClassEmail         = "email"
	ClassPersonName    = "person_name"
	ClassUsername      = "username"
	ClassPassword      = "password"
	ClassPasswordHash  = "password_hash"
	ClassAuthToken     = "auth_token"
	ClassAPIKey        = "api_key"
	ClassWifiSSID      = "wifi_ssid"
	ClassDeviceID      = "device_id"
	ClassDeviceModel   = "device_model"
	ClassMACAddress    = "mac_address"
	ClassIPAddress     = "ip_address"
	ClassPhone         = "phone"
	ClassPostalAddress = "postal_address"
	ClassGeoLocation   = "geo_location"
	ClassDateOfBirth   = "date_of_birth"
	ClassPaymentCard   = "payment_card"
	ClassBankAccount   = "bank_account"
	ClassNationalID    = "national_id"
)

// classDef is everything that differs from one class to the next. Adding a
// class is a constant above, a Class* name and one classTable entry (plus,
// for a class found by its value's shape, a detector in detect.go).
type classDef struct {
	// name is the class's name in the finding vocabulary.
	name string
	// identifying: one value stands for one person or device, so the class
	// gets a distinct-subjects estimate (estimate.go).
	identifying bool
	// hashed: the output carries keyed hashes of its values. Device models
	// and coordinates are left out: they identify no one and repeat across
	// unrelated stores, so a match says nothing.
	hashed bool
	// terms are the field-name cues, "term:confidence". A term is one or
	// more lower-case tokens (the field name is split on separators and
	// camelCase, so "accessToken", "access_token", "access-token" and
	// "Access Token" all read "access token"); multi-token terms also match
	// their joined form ("accesstoken"). The confidence is that a field so
	// named holds the class. Non-English names are a deliberate part of the
	// lists.
	terms []string
	// keepAfter lists tokens that negAfter (terms.go) would drop after a
	// term but that keep their meaning for this class ("device_id",
	// "password_hash").
	keepAfter []string
	// schemaTypes are store types (Elasticsearch mappings, SQL column
	// types) that hold the class whatever the field is called.
	schemaTypes []string
	// fieldCheck confirms on the value a class the field name announced
	// (sig is the field's signal; d comes as {c, sig, the field's rule, v}
	// and is returned, maybe relabelled; by value, so it stays on the stack). nil: the field alone never confirms the class
	// (only value detectors find it).
	fieldCheck func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool)
	// alongside: a value that one of these classes' value detectors claimed
	// is given this class too when the field announces it (a MAC under
	// "device_id" is both). Otherwise a value a detector claimed gets no
	// field class.
	alongside classSet
	// pair: in free text, "<keyword>=value" / "<keyword>: value" reads the
	// value as this class (text.go); nil for none.
	pair *textPair
	// mask renders a detection as an example that says what the value is
	// without enough of it to reconstruct it.
	mask func(d det) string
}

// textPair is a key/value pair in free text whose key is a context keyword.
type textPair struct {
	group uint8  // the context keyword group of the key (engine.go)
	rule  string // rule id of the detection
	label string
	ok    func(val string) bool // the value is one (and no other detector's)
}

// classTable holds one entry per class.
var classTable = [numClasses]classDef{
	cEmail: {
		name:        ClassEmail,
		identifying: true,
		hashed:      true,
		terms: []string{
			"email:0.95", "e mail:0.95", "mail:0.8", "email address:0.95", "mail address:0.9",
			"emails:0.95", "contact email:0.95", "correo:0.9", "correo electronico:0.95",
			"correo electrónico:0.95", "courriel:0.95", "adresse mail:0.95", "adresse email:0.95",
			"e post:0.85", "epost:0.85", "posta elettronica:0.9", "mailadresse:0.95",
		},
		// emails only by value
		mask: func(d det) string {
			v := d.raw
			at := strings.LastIndexByte(v, '@')
			if at <= 0 {
				return "***@***"
			}
			dom := v[at+1:]
			dot := strings.LastIndexByte(dom, '.')
			if dot <= 0 {
				return first(v) + "***@***"
			}
			return first(v) + "***@" + first(dom) + strings.Repeat("*", min(utf8.RuneCountInString(dom[:dot])-1, 8)) + strings.ToLower(dom[dot:])
		},
	},
	cPersonName: {
		name:        ClassPersonName,
		identifying: true,
		hashed:      true,
		terms: []string{
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
		keepAfter: []string{"name"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if !nameShape(v) {
				return d, false
			}
			if sig < 0.6 {
				// Bare "name": only when the value reads like a person —
				// a word of it is a given name or surname of the lists
				// (namelists.go) or the built-in first names.
				if !knownFirstName(v) && !s.personValue(v, true) {
					return d, false
				}
				d.conf = 0.7
			}
			return d, true
		},
		mask: func(d det) string {
			var parts []string
			for _, w := range strings.Fields(d.raw) {
				parts = append(parts, first(w)+"***")
				if len(parts) == 3 {
					break
				}
			}
			return strings.Join(parts, " ")
		},
	},
	cUsername: {
		name:        ClassUsername,
		identifying: true,
		hashed:      true,
		terms: []string{
			"username:0.9", "user name:0.9", "user:0.6", "login:0.75", "login name:0.9", "user login:0.9",
			"handle:0.7", "screen name:0.9", "screenname:0.9", "nickname:0.8", "nick:0.7",
			"account name:0.8", "benutzername:0.9", "benutzer:0.7", "usuario:0.8",
			"nombre de usuario:0.9", "nombre usuario:0.9", "nom utilisateur:0.9", "nom d utilisateur:0.9",
			"utilisateur:0.7", "identifiant:0.7", "utente:0.7", "nome utente:0.9",
			"gebruikersnaam:0.9", "login id:0.8",
		},
		keepAfter: []string{"name"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if len(v) < 2 || len(v) > 64 || isDigits(v) || !hasLetter(v) || hasSpace(v) || strings.IndexByte(v, '@') >= 0 && emailOK(v) {
				return d, false
			}
			if uuidShape(v) || placeholderSecret(v) {
				return d, false
			}
			_, date := parseDate(v, s.now)
			return d, !date
		},
		mask: maskShort,
	},
	cPassword: {
		name:   ClassPassword,
		hashed: true,
		terms: []string{
			"password:0.9", "passwd:0.9", "pwd:0.85", "pass:0.7", "passphrase:0.9", "passcode:0.8",
			"passwort:0.9", "kennwort:0.9", "contrasena:0.9", "contraseña:0.9", "clave:0.6",
			"mot de passe:0.9", "motdepasse:0.9", "mdp:0.7", "senha:0.9", "wachtwoord:0.9",
			"parola:0.6", "haslo:0.85", "hasło:0.9", "пароль:0.9", "user password:0.9",
			"login password:0.9", "wifi password:0.9", "wifi pass:0.85", "wlan password:0.9",
			"plain password:0.95", "plaintext password:0.95", "cleartext password:0.95",
		},
		keepAfter: []string{},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if len(v) < 3 || len(v) > 128 {
				return d, false
			}
			if k := hexHashKind(v); k != "" {
				d.c, d.label, d.rule = cPasswordHash, k, "value:hex_"+k
				return d, true
			}
			if _, ok := parseDate(v, s.now); ok {
				return d, false
			}
			if isDigits(v) && len(v) > 10 { // a timestamp or counter
				return d, false
			}
			return d, true
		},
		pair: &textPair{group: kgCtxPassword, rule: "text:password_pair",
			ok: func(val string) bool { return hashKind(val) == "" }}, // hashes: found by the word pass
		mask: func(d det) string {
			return "[password, " + strconv.Itoa(utf8.RuneCountInString(d.raw)) + " chars]"
		},
	},
	cPasswordHash: {
		name:   ClassPasswordHash,
		hashed: true,
		terms: []string{
			"password hash:0.95", "passwd hash:0.95", "pwd hash:0.95", "pass hash:0.9",
			"hashed password:0.95", "password digest:0.95", "encrypted password:0.9",
			"crypted password:0.95", "password encrypted:0.9", "password hashed:0.95",
			"password sha1:0.95", "password md5:0.95", "password bcrypt:0.95", "password crypt:0.95",
			"passwort hash:0.95", "hash contrasena:0.95", "pw hash:0.9", "pwhash:0.9",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if k := hexHashKind(v); k != "" {
				d.label, d.rule = k, hashRules[k]
				return d, true
			}
			if len(v) >= 20 && allIn(v, b64Byte) {
				d.label, d.conf = "hash", sig-0.1
				return d, true
			}
			return d, false
		},
		mask: func(d det) string {
			lbl := d.label
			if lbl == "" {
				lbl = "hash"
			}
			if d.prefix > 0 {
				return safePrefix(d.raw, d.prefix) + "…[" + lbl + "]"
			}
			return "…[" + lbl + "]"
		},
	},
	cAuthToken: {
		name:   ClassAuthToken,
		hashed: true,
		terms: []string{
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
		keepAfter: []string{"key"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			t := v
			if strings.HasPrefix(t, "Bearer ") || strings.HasPrefix(t, "bearer ") {
				t = t[7:]
			}
			// (fill-ins are refused; of fillInKey's tests only the mask
			// run can hold for a UUID-shaped value)
			if uuidShape(t) {
				d.rule = pi.rule[cAuthToken] + "+uuid"
				d.label = "token"
				return d, !maskRun(t)
			}
			if opaqueToken(t) && !hexDateLike(t) {
				d.label = "token"
				return d, pi.sig[cAPIKey] <= pi.sig[cAuthToken] && !fillInKey(t)
			}
			return d, false
		},
		pair: &textPair{group: kgCtxToken, rule: "text:auth_token_pair", label: "token", ok: tokenPairOK},
		mask: maskToken,
	},
	cAPIKey: {
		name:   ClassAPIKey,
		hashed: true,
		terms: []string{
			"api key:0.95", "apikey:0.95", "x api key:0.95", "api secret:0.95", "api secret key:0.95",
			"client secret:0.95", "secret key:0.9", "secret:0.75", "access key:0.85",
			"access key id:0.9", "secret access key:0.95", "aws secret access key:0.95",
			"private key:0.9", "app secret:0.9", "app key:0.75", "consumer secret:0.9",
			"consumer key:0.8", "signing key:0.9", "signing secret:0.9", "webhook secret:0.9",
			"encryption key:0.85", "master key:0.85", "account key:0.85", "storage key:0.85",
			"service account key:0.9", "license key:0.5", "stripe key:0.9", "aws key:0.9",
			"gcp key:0.9", "azure key:0.9", "github token:0.95", "slack token:0.95", "pat:0.6",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			switch {
			case strings.HasPrefix(v, "-----BEGIN"):
				d.label = "private key"
			case azureKeyShape(v):
				d.label, d.rule = "azure storage key", "value:azure_storage_key"
			case opaqueToken(v):
				d.label = "key"
			default:
				return d, false
			}
			return d, !fillInKey(v)
		},
		pair: &textPair{group: kgCtxKey, rule: "text:api_key_pair", label: "token", ok: tokenPairOK},
		mask: maskToken,
	},
	cWifiSSID: {
		name:   ClassWifiSSID,
		hashed: true,
		terms: []string{
			"ssid:0.95", "essid:0.95", "wifi ssid:0.95", "wifi name:0.95", "wlan name:0.95",
			"wifi network:0.9", "wlan ssid:0.95", "wifi:0.8", "wlan:0.8", "wifi network name:0.95",
			"network ssid:0.95", "hotspot name:0.9", "wlan netz:0.9", "red wifi:0.9",
			"nombre red:0.8", "reseau wifi:0.9", "home wifi:0.9", "wifi ap:0.85",
		},
		keepAfter: []string{"name", "network"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			return d, !(len(v) > 32 || isDigits(v) && len(v) < 4)
		},
		mask: maskShort,
	},
	cDeviceID: {
		name:        ClassDeviceID,
		identifying: true,
		hashed:      true,
		terms: []string{
			"device id:0.9", "deviceid:0.9", "device uuid:0.95", "device serial:0.95",
			"serial:0.8", "serial number:0.9", "serialno:0.9", "serial no:0.9", "sn:0.5",
			"imei:0.95", "imsi:0.9", "meid:0.9", "udid:0.95", "android id:0.95", "advertising id:0.95",
			"idfa:0.95", "idfv:0.95", "ad id:0.8", "gaid:0.9", "hardware id:0.9", "hwid:0.9",
			"camera id:0.9", "camera uuid:0.9", "camera serial:0.95", "device serial number:0.95",
			"installation id:0.85", "install id:0.85", "client id:0.5", "machine id:0.85",
			"sensor id:0.8", "mac id:0.6", "device key:0.7", "geräte id:0.9", "gerate id:0.9",
		},
		keepAfter: []string{"id", "uuid", "key"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if len(v) < 4 || len(v) > 128 || hasSpace(v) || !hasDigit(v) && !uuidShape(v) && len(v) < 8 || versionLike(v) {
				return d, false
			}
			_, date := parseDate(v, s.now)
			return d, !date
		},
		alongside: setOf(cMAC, cIP),
		mask: func(d det) string {
			if utf8.RuneCountInString(d.raw) <= 6 {
				return "***"
			}
			return first(d.raw) + "…[" + strconv.Itoa(len(d.raw)) + " chars]"
		},
	},
	cDeviceModel: {
		name: ClassDeviceModel,
		terms: []string{
			"device model:0.95", "model:0.75", "model name:0.85", "model number:0.85",
			"camera model:0.95", "camera type:0.8", "hardware model:0.95", "phone model:0.95",
			"device name:0.75", "device type:0.6", "product model:0.9", "hw model:0.9",
			"modelo:0.8", "modell:0.8", "modele:0.8", "modèle:0.8", "handset:0.8",
		},
		keepAfter: []string{"name"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			return d, !(len(v) < 2 || len(v) > 64 || !hasLetter(v) || strings.IndexByte(v, '@') >= 0)
		},
		mask: func(d det) string {
			v := d.raw
			if utf8.RuneCountInString(v) <= 3 {
				return "***"
			}
			return first(v) + first(v[len(first(v)):]) + "***"
		},
	},
	cMAC: {
		name:        ClassMACAddress,
		identifying: true,
		hashed:      true,
		terms: []string{
			"mac:0.9", "mac address:0.95", "macaddress:0.95", "macaddr:0.95", "bssid:0.95",
			"hw addr:0.9", "hwaddr:0.9", "hardware address:0.9", "ether:0.7", "ethernet address:0.9",
			"wifi mac:0.95", "bt addr:0.8", "bluetooth address:0.85", "adresse mac:0.95",
			"direccion mac:0.95",
		},
		schemaTypes: []string{"macaddr", "macaddr8"},
		// confirmed only by the value detectors
		mask: func(d det) string {
			n := d.norm
			if len(n) == 12 {
				return n[0:2] + ":" + n[2:4] + ":" + n[4:6] + ":xx:xx:xx"
			}
			return "xx:xx:xx:xx:xx:xx"
		},
	},
	cIP: {
		name:   ClassIPAddress,
		hashed: true,
		terms: []string{
			"ip:0.9", "ip address:0.95", "ipaddress:0.95", "ipaddr:0.95", "ipv4:0.95", "ipv6:0.95",
			"client ip:0.95", "remote ip:0.95", "remote addr:0.9", "remote address:0.9",
			"source ip:0.95", "src ip:0.95", "dst ip:0.9", "dest ip:0.9", "last ip:0.95",
			"last login ip:0.95", "login ip:0.95", "x forwarded for:0.9", "forwarded for:0.9",
			"host ip:0.9", "peer ip:0.9", "public ip:0.95", "private ip:0.9", "wan ip:0.95",
			"lan ip:0.9", "user ip:0.95", "signup ip:0.95", "register ip:0.95", "adresse ip:0.95",
			"direccion ip:0.95", "clientip:0.95", "remoteip:0.95", "ip addr:0.95",
		},
		schemaTypes: []string{"ip", "inet", "cidr", "ipv4", "ipv6"},
		// confirmed only by the value detectors
		mask: func(d det) string {
			v := d.raw
			if strings.IndexByte(v, ':') >= 0 && strings.Count(v, ".") != 3 {
				if i := strings.IndexByte(v, ':'); i > 0 {
					return v[:i] + ":…[ipv6]"
				}
				return "…[ipv6]"
			}
			if i := strings.IndexByte(v, '.'); i > 0 {
				return v[:i] + ".x.x.x"
			}
			return "x.x.x.x"
		},
	},
	cPhone: {
		name:        ClassPhone,
		identifying: true,
		hashed:      true,
		terms: []string{
			"phone:0.9", "phone number:0.95", "phones:0.9", "telephone:0.9", "tel:0.8", "mobile:0.8",
			"mobile number:0.95", "mobile phone:0.95", "cell:0.6", "cellphone:0.9", "cell phone:0.9",
			"msisdn:0.95", "fax:0.8", "telefon:0.9", "telefonnummer:0.95", "telefono:0.9",
			"teléfono:0.9", "handy:0.7", "handynummer:0.95", "portable:0.6", "movil:0.8", "móvil:0.8",
			"celular:0.9", "whatsapp:0.8", "contact number:0.9", "phone no:0.95", "tel no:0.9",
			"numero telephone:0.95", "numéro de téléphone:0.95", "numero de telephone:0.95",
			"home phone:0.95", "work phone:0.95",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			e164, ok := s.phoneIn(v, pi, true)
			if ok {
				d.norm = e164
			}
			return d, ok
		},
		mask: func(d det) string {
			n := d.norm
			if n == "" {
				n = d.raw
			}
			if len(n) > 6 && n[0] == '+' {
				// country code (up to 3 digits) and the last two digits
				cc := n[1:2]
				return "+" + cc + "•••••" + n[len(n)-2:]
			}
			return "•••••" + lastN(n, 2)
		},
	},
	cPostalAddress: {
		name:   ClassPostalAddress,
		hashed: true,
		terms: []string{
			"address:0.75", "street:0.85", "street address:0.95", "address line:0.95",
			"address line1:0.95", "address line2:0.9", "address1:0.9", "address2:0.85", "addr:0.6",
			"home address:0.95", "postal address:0.95", "mailing address:0.95",
			"billing address:0.95", "shipping address:0.95", "delivery address:0.95",
			"strasse:0.9", "straße:0.9", "adresse:0.8", "anschrift:0.9", "direccion:0.8",
			"dirección:0.8", "domicilio:0.9", "indirizzo:0.85", "endereco:0.85", "endereço:0.85",
			"calle:0.8", "rue:0.7", "postal code:0.6", "postcode:0.6", "zip code:0.6", "zipcode:0.6",
			"zip:0.55", "plz:0.6", "codigo postal:0.6", "code postal:0.6",
		},
		keepAfter: []string{"city", "country"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if len(v) < 3 || len(v) > 256 {
				return d, false
			}
			if !hasLetter(v) {
				// postcodes
				return d, len(v) <= 10 && hasDigit(v)
			}
			return d, true
		},
		mask: func(d det) string {
			return "[address, " + strconv.Itoa(len(strings.Fields(d.raw))) + " words]"
		},
	},
	cGeo: {
		name: ClassGeoLocation,
		terms: []string{
			"location:0.8", "geo:0.85", "geo location:0.95", "geolocation:0.95", "geopoint:0.95",
			"geo point:0.95", "coordinates:0.9", "coords:0.9", "coordinate:0.9", "latlng:0.95",
			"latlon:0.95", "lat lon:0.95", "lat lng:0.95", "lat long:0.95", "gps:0.9",
			"position:0.6", "lat:0.85", "latitude:0.95", "lon:0.85", "lng:0.85", "long:0.6",
			"longitude:0.95", "last location:0.9", "home location:0.95", "standort:0.9",
			"ubicacion:0.9", "ubicación:0.9", "posizione:0.8", "geo coordinates:0.95",
			"geo lat:0.95", "geo lon:0.95",
		},
		keepAfter:   []string{"lat", "lon"},
		schemaTypes: []string{"geo_point", "geo_shape", "geography", "point", "geometry"},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if latLonPair(v) {
				return d, true
			}
			if pi.lat || pi.lon || pi.sig[cGeo] >= 0.8 {
				if strings.IndexByte(v, '.') > 0 {
					if _, ok := coord(v, 180); ok {
						return d, true
					}
				}
			}
			return d, len(v) >= 5 && len(v) <= 12 && pi.rule[cGeo] == "field:geohash"
		},
		mask: func(det) string { return "[lat/lon]" },
	},
	cDOB: {
		name:   ClassDateOfBirth,
		hashed: true,
		terms: []string{
			"dob:0.95", "date of birth:0.95", "birth date:0.95", "birthdate:0.95", "birthday:0.9",
			"birth:0.85", "born:0.8", "born on:0.9", "birth day:0.9", "geburtsdatum:0.95",
			"geburtstag:0.9", "fecha de nacimiento:0.95", "fecha nacimiento:0.95", "nacimiento:0.85",
			"date de naissance:0.95", "naissance:0.85", "data di nascita:0.95", "data nascimento:0.95",
			"data de nascimento:0.95", "geboortedatum:0.95", "bday:0.85",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			_, ok := parseDOB(v, s.now)
			return d, ok
		},
		mask: func(d det) string {
			if y, ok := yearOf(d.raw); ok {
				return strconv.Itoa(y/10) + "x-xx-xx"
			}
			return "[date]"
		},
	},
	cCard: {
		name:        ClassPaymentCard,
		identifying: true,
		hashed:      true,
		terms: []string{
			"card number:0.95", "cardnumber:0.95", "card no:0.95", "card num:0.95", "cc number:0.95",
			"cc num:0.95", "ccnum:0.95", "ccnumber:0.95", "credit card:0.95", "creditcard:0.95",
			"credit card number:0.95", "debit card:0.95", "pan:0.8", "card:0.7", "card pan:0.95",
			"kartennummer:0.95", "kreditkarte:0.95", "numero tarjeta:0.95", "tarjeta:0.85",
			"numero de tarjeta:0.95", "numero carte:0.95", "carte bancaire:0.95", "cartao:0.85",
			"payment card:0.95",
		},
		// Card-shaped values are tried by the value detectors.
		mask: func(d det) string {
			digits := d.norm
			if len(digits) < 12 {
				return "••••[card]"
			}
			return "••••" + digits[len(digits)-4:] + " [" + d.label + "]"
		},
	},
	cBank: {
		name:   ClassBankAccount,
		hashed: true,
		terms: []string{
			"iban:0.95", "bank account:0.9", "account number:0.75", "acct number:0.8", "acct no:0.8",
			"bank account number:0.95", "routing number:0.8", "sort code:0.7", "kontonummer:0.9",
			"bankverbindung:0.85", "numero de cuenta:0.9", "cuenta bancaria:0.9", "rib:0.7",
			"bank acct:0.9",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			// IBANs are confirmed by the value detectors; a plain account
			// number only under a strong field.
			if sig >= 0.7 && len(v) >= 6 && len(v) <= 18 && isDigits(v) {
				d.conf = sig - 0.05
				d.label = "account"
				return d, true
			}
			return d, false
		},
		mask: func(d det) string {
			if d.label == "iban" && len(d.norm) > 6 {
				return d.norm[:2] + "••…••" + d.norm[len(d.norm)-2:] + " [iban]"
			}
			return "••••[account]"
		},
	},
	cNationalID: {
		name:        ClassNationalID,
		identifying: true,
		hashed:      true,
		terms: []string{
			"ssn:0.95", "social security:0.95", "social security number:0.95", "national id:0.9",
			"nationalid:0.9", "national insurance number:0.95", "nino:0.9", "nin:0.7", "tax id:0.85",
			"taxid:0.85", "tin:0.6", "dni:0.9", "nie:0.8", "nif:0.85", "cpf:0.9", "passport:0.85",
			"passport number:0.95", "passport no:0.95", "personalausweis:0.95", "ausweisnummer:0.95",
			"steuer id:0.9", "steuernummer:0.8", "codice fiscale:0.95", "id card number:0.9",
			"id number:0.6", "national identity number:0.95", "sozialversicherungsnummer:0.95",
			"numero seguridad social:0.95", "insee:0.8", "personnummer:0.95", "bsn:0.8", "pesel:0.95",
		},
		fieldCheck: func(s *scanner, d det, sig float32, v string, pi *pathInfo) (det, bool) {
			if idSchemeRejects(v) {
				// shaped like an SSN, NINO or DNI, and its checks fail:
				// the field name alone is no proof
				return d, false
			}
			switch {
			case ninoOK(v):
				d.label, d.rule = "nino", "value:nino"
			case dniOK(v):
				d.label, d.rule = "dni", "value:dni"
			case len(v) == 9 && isDigits(v) && v != "000000000":
				d.label = "ssn"
			case sig >= 0.8 && len(v) >= 6 && len(v) <= 20 && hasDigit(v) && idAlphabet(v):
				d.conf = sig - 0.1
			default:
				return d, false
			}
			return d, true
		},
		mask: func(d det) string {
			lbl := d.label
			if lbl == "" {
				lbl = "national id"
			}
			return "•••[" + lbl + "]"
		},
	},
}

// Tables derived from classTable for the hot paths.
var (
	classNames  = deriveClass(func(d *classDef) string { return d.name })
	identifying = deriveClass(func(d *classDef) bool { return d.identifying })
	hashed      = deriveClass(func(d *classDef) bool { return d.hashed })
	// negAfterOK holds each class's keepAfter as a set.
	negAfterOK = deriveClass(func(d *classDef) map[string]bool {
		if d.keepAfter == nil {
			return nil
		}
		return toSet(d.keepAfter...)
	})
	// schemaTypes maps store types to classes.
	schemaTypes = func() map[string]class {
		m := map[string]class{}
		for c := range numClasses {
			for _, t := range classTable[c].schemaTypes {
				m[t] = c
			}
		}
		return m
	}()
	// alongsideClasses are the classes with an alongside set.
	alongsideClasses = func() (cs []class) {
		for c := range numClasses {
			if !classTable[c].alongside.empty() {
				cs = append(cs, c)
			}
		}
		return cs
	}()
	// pairClass maps a context keyword group to the class of its text
	// pairs (numClasses: none); pairGroups is the set of those groups.
	pairClass, pairGroups = func() (pc [32]class, gs uint32) {
		for g := range pc {
			pc[g] = numClasses
		}
		for c := range numClasses {
			if p := classTable[c].pair; p != nil {
				pc[p.group] = c
				gs |= 1 << p.group
			}
		}
		return pc, gs
	}()
)

// deriveClass tabulates one property of every class.
func deriveClass[T any](f func(*classDef) T) (out [numClasses]T) {
	for c := range out {
		out[c] = f(&classTable[c])
	}
	return out
}

// Classes lists the class vocabulary the engine reports.
func Classes() []string { return append([]string(nil), classNames[:]...) }

func (c class) String() string { return classNames[c] }

// classSet is a bit set of classes.
type classSet uint32

func (s classSet) has(c class) bool { return s&(1<<c) != 0 }
func (s *classSet) add(c class)     { *s |= 1 << c }
func (s classSet) empty() bool      { return s == 0 }
func setOf(cs ...class) (s classSet) {
	for _, c := range cs {
		s.add(c)
	}
	return s
}
