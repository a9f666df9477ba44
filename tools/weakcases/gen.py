#!/usr/bin/env python3
"""Generate internal/classify/testdata/weak_classes.jsonl: labelled cases for
device_id, api_key, auth_token, username and date_of_birth (and hard
negatives) built from public format descriptions and field-name tables of
many languages. Seeded, so the output is reproducible:

    python3 tools/weakcases/gen.py > internal/classify/testdata/weak_classes.jsonl

Every value is random or fake (Luhn-valid IMEIs with a random serial,
random provider-shaped keys; no real credential). Written without reading
the blind held-out corpus (heldout_v2.jsonl)."""
import base64, json, random, string

R = random.Random(20261206)
out = []


def rec(doc=None, text=None, classes=(), note=""):
    o = {}
    if text is not None:
        o["text"] = text
    else:
        o["doc"] = doc
    o["classes"] = sorted(set(classes))
    o["note"] = note
    out.append(o)


def rs(n, alpha=string.ascii_letters + string.digits):
    return "".join(R.choice(alpha) for _ in range(n))


HEX = "0123456789abcdef"
UHEX = "0123456789ABCDEF"
LOWN = string.ascii_lowercase + string.digits
B64U = string.ascii_letters + string.digits + "-_"


def luhn_digit(body):
    s = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        s += d
    return str((10 - s % 10) % 10)


def imei():
    body = R.choice(["35", "86", "01", "99", "49"]) + rs(12, string.digits)
    return body + luhn_digit(body)


def iccid():
    body = "89" + R.choice(["01", "44", "49", "33", "34", "46"]) + rs(14, string.digits)
    return body + luhn_digit(body)


def uuid(upper=False):
    h = UHEX if upper else HEX
    return "-".join(rs(n, h) for n in (8, 4, 4, 4, 12))


def mixed(s):
    return s


# ---------------------------------------------------------------- device_id
imei_fields = ["imei", "IMEI", "device_imei", "imei_number", "imeiNumber", "imei1", "imei_2", "IMEI-Nummer",
               "numero_imei", "numéro_imei", "imei_no"]
for f in imei_fields:
    rec({f: imei(), "status": "active"}, classes=["device_id"], note="imei under " + f)
for form in ["IMEI: {v}", "handset imei {v} blocked after theft report", "Gerät mit IMEI {v} gesperrt",
             "IMEI {v} reported lost", "imei={v} model=unknown"]:
    rec(text=form.format(v=imei()), classes=["device_id"], note="imei in text")
v = imei()
rec(text="IMEI %s-%s-%s-%s" % (v[:2], v[2:8], v[8:14], v[14]), classes=["device_id"], note="imei dashed")
serial_fields = ["serial_number", "serialNumber", "SerialNumber", "seriennummer", "serien_nr", "numero_serie",
                 "numero_de_serie", "num_serie", "numéro_de_série", "numero_di_serie", "matricola", "serienummer",
                 "sarjanumero", "numer_seryjny", "seri_no", "seri_numarasi", "s_n", "hw_serial", "serial_no",
                 "device_sn", "devSn", "board_serial", "chassis_serial"]
for f in serial_fields:
    v = R.choice([rs(2, string.ascii_uppercase) + rs(8, UHEX.replace("ABCDEF", "") + "ABCDEFGHJKLMNPQRSTUVWXYZ"),
                  "C02" + rs(9, string.ascii_uppercase + string.digits),
                  rs(4, string.ascii_uppercase) + rs(6, string.digits),
                  "SN" + rs(10, string.digits)])
    rec({"device": {f: v}} if R.random() < 0.4 else {f: v}, classes=["device_id"], note="serial under " + f)
for f in ["android_id", "androidId", "ANDROID_ID", "ssaid", "android_device_id"]:
    rec({f: rs(16, HEX)}, classes=["device_id"], note="android id under " + f)
for f in ["idfv", "identifierForVendor", "idfa", "advertisingIdentifier", "gaid", "adid", "aaid", "oaid",
          "google_ad_id", "ad_id", "vendor_device_id", "ios_idfv"]:
    rec({f: uuid(upper=R.random() < 0.5)}, classes=["device_id"], note="mobile id under " + f)
for f in ["device_uid", "deviceUID", "device_guid", "deviceGuid", "hardware_uuid", "hardwareUUID", "device_uuid",
          "dev_uid", "machine_id", "machineId", "install_id", "installation_id", "instance_uid", "node_uid",
          "client_device_id", "terminal_id", "tid_device", "uuid_dispositivo", "geraete_id", "identifiant_appareil",
          "id_apparecchio", "apparaat_id", "enhet_id", "laite_id", "urzadzenie_id", "cihaz_id"]:
    v = R.choice([uuid(), rs(32, HEX), rs(16, UHEX), rs(12, string.ascii_uppercase + string.digits)])
    rec({f: v}, classes=["device_id"], note="device uid under " + f)
for f in ["p2p_uid", "cam_uid", "p2p_id", "tutk_uid", "camera_uid", "cloud_id", "uid"]:
    v = rs(4, string.ascii_uppercase) + "-" + rs(6, string.digits) + "-" + rs(5, string.ascii_uppercase)
    doc = {"camera": {f: v}} if f == "uid" else {f: v}
    rec(doc, classes=["device_id"], note="p2p camera uid under " + f)
for f in ["iccid", "ICCID", "sim_iccid", "simIccid"]:
    rec({f: iccid()}, classes=["device_id"], note="iccid under " + f)
for f in ["meid", "esn", "dev_eui", "devEUI", "deveui", "udid", "eid", "tuya_device_id", "homekit_id", "zigbee_ieee"]:
    v = {"meid": rs(14, UHEX), "esn": rs(8, UHEX), "udid": rs(40, HEX), "eid": rs(32, string.digits),
         "tuya_device_id": "bf" + rs(20, LOWN)}.get(f.lower(), rs(16, UHEX))
    rec({f: v}, classes=["device_id"], note="device id under " + f)
for parent, leaf in [("device", "id"), ("hardware", "uuid"), ("camera", "serial"), ("sensor", "id"),
                     ("router", "serial"), ("tracker", "uid"), ("thermostat", "serial_number"), ("handset", "imei")]:
    v = imei() if leaf == "imei" else R.choice([uuid(), rs(12, UHEX), "SN" + rs(10, string.digits)])
    rec({parent: {leaf: v, "online": True}}, classes=["device_id"], note="nested %s.%s" % (parent, leaf))
for form in ["device {v} registered for push", "serial number: {v}", "android_id={v} first seen",
             "Seriennummer {v} nicht gefunden", "numéro de série {v} inconnu", "registered device_id {v}"]:
    v = R.choice([rs(16, HEX), "C02" + rs(9, string.ascii_uppercase + string.digits), uuid()])
    if form.startswith("device {v}"):
        v = rs(16, HEX)
    if "android" in form:
        v = rs(16, HEX)
    rec(text=form.format(v=v), classes=["device_id"], note="device id in text")

# device_id hard negatives
negs = [
    ({"order_id": uuid(), "total": 19.9}, "order uuid"),
    ({"trace_id": rs(32, HEX), "span_id": rs(16, HEX)}, "trace ids"),
    ({"serial_port": "/dev/ttyUSB0", "baud": 115200}, "serial port"),
    ({"imei": "N/A"}, "imei n/a"),
    ({"imei_count": 2}, "imei count"),
    ({"tracking_number": imei(), "carrier": "postal"}, "luhn tracking number"),
    ({"transaction_id": rs(15, string.digits)}, "transaction id"),
    ({"serial": "1.4.2", "component": "ui"}, "version under serial"),
    ({"device_type": "tablet", "device_count": 3}, "device metadata"),
    ({"request_id": uuid(), "status": 200}, "request id"),
    ({"commit": rs(40, HEX), "branch": "main"}, "git commit"),
    ({"checksum": rs(64, HEX)}, "checksum"),
    ({"serial_number_format": "AA-9999"}, "serial format"),
    ({"session": {"request_uuid": uuid()}}, "request uuid"),
    ({"imei_required": True, "imei_checked_at": "2025-03-01T10:00:00Z"}, "imei flags"),
]
for d, n in negs:
    rec(d, classes=[], note="neg: " + n)
rec(text="batch %s processed, 15 records, serial numbers pending" % rs(8, string.digits), classes=[], note="neg: prose serial")
rec(text="firmware upgrade to 4.2.1 finished on all devices", classes=[], note="neg: prose device")

# ---------------------------------------------------------------- api_key
def provider_keys():
    return [
        ("shopify", "shpat_" + rs(32, HEX)), ("shopify", "shpss_" + rs(32, HEX)),
        ("huggingface", "hf_" + rs(34, string.ascii_letters)),
        ("digitalocean", "dop_v1_" + rs(64, HEX)),
        ("grafana", "glsa_" + rs(32, string.ascii_letters + string.digits) + "_" + rs(8, HEX)),
        ("brevo", "xkeysib-" + rs(64, HEX) + "-" + rs(16, string.ascii_letters + string.digits)),
        ("mailgun", "key-" + rs(32, HEX)),
        ("mailchimp", rs(32, HEX) + "-us" + str(R.randint(1, 21))),
        ("pypi", "pypi-AgEIcHlwaS5vcmc" + rs(60, B64U)),
        ("postman", "PMAK-" + rs(24, HEX) + "-" + rs(34, HEX)),
        ("doppler", "dp.pt." + rs(43, string.ascii_letters + string.digits)),
        ("vault", "hvs." + rs(24, string.ascii_letters + string.digits)),
        ("linear", "lin_api_" + rs(40, string.ascii_letters + string.digits)),
        ("notion", "ntn_" + rs(46, string.ascii_letters + string.digits)),
        ("openai", "sk-" + rs(20, string.ascii_letters + string.digits) + "T3BlbkFJ" + rs(20, string.ascii_letters + string.digits)),
        ("openai", "sk-svcacct-" + rs(60, B64U)),
        ("groq", "gsk_" + rs(52, string.ascii_letters + string.digits)),
        ("replicate", "r8_" + rs(37, string.ascii_letters + string.digits)),
        ("google oauth client", "GOCSPX-" + rs(28, B64U)),
        ("databricks", "dapi" + rs(32, HEX)),
        ("newrelic", "NRAK-" + rs(27, string.ascii_uppercase + string.digits)),
        ("atlassian", "ATATT3xFfGF0" + rs(180, B64U) + "=" + rs(8, UHEX)),
        ("contentful", "CFPAT-" + rs(43, B64U)),
        ("figma", "figd_" + rs(40, B64U)),
        ("sentry", "sntrys_" + rs(60, string.ascii_letters + string.digits)),
        ("pulumi", "pul-" + rs(40, HEX)),
        ("buildkite", "bkua_" + rs(40, HEX)),
        ("twilio", "SK" + rs(32, HEX)),
        ("telegram", str(R.randint(100000000, 9999999999)) + ":AA" + rs(33, B64U)),
        ("stripe webhook", "whsec_" + rs(32, string.ascii_letters + string.digits)),
        ("age", "AGE-SECRET-KEY-1" + rs(58, string.ascii_uppercase + "234567")),
        ("supabase", "sbp_" + rs(40, HEX)),
        ("netlify", "nfp_" + rs(36, string.ascii_letters + string.digits)),
        ("planetscale", "pscale_tkn_" + rs(43, B64U)),
        ("dynatrace", "dt0c01." + rs(24, string.ascii_uppercase + string.digits) + "." + rs(64, string.ascii_uppercase + string.digits)),
        ("alibaba", "LTAI" + rs(20, string.ascii_letters + string.digits)),
        ("tencent", "AKID" + rs(32, string.ascii_letters + string.digits)),
        ("square", "sq0atp-" + rs(22, B64U)),
        ("square", "sq0csp-" + rs(43, B64U)),
        ("stripe", "sk_live_" + rs(24, string.ascii_letters + string.digits)),
        ("gcp", "AIza" + rs(35, B64U)),
        ("gitlab", "glpat-" + rs(20, B64U)),
        ("anthropic", "sk-ant-api03-" + rs(93, B64U) + "AA"),
        ("azure ad secret", rs(3, string.ascii_letters + string.digits) + "8Q~" + rs(34, string.ascii_letters + string.digits + "_.-~")),
    ]


neutral = ["value", "secret_value", "config_value", "env_value", "setting", "v", "data", "cred", "entry"]
for name, key in provider_keys():
    rec({R.choice(neutral): key, "service": name.split()[0]}, classes=["api_key"], note="provider key by value: " + name)
for name, key in provider_keys()[:30]:
    envname = name.upper().replace(" ", "_") + "_" + R.choice(["KEY", "API_KEY", "TOKEN", "SECRET"])
    rec(text="%s=%s" % (envname, key), classes=["api_key"], note="provider key in .env: " + name)
for name, key in provider_keys()[:12]:
    rec(text="using %s credentials %s for the nightly export" % (name, key), classes=["api_key"], note="provider key in prose: " + name)
api_fields = ["api_key", "apiKey", "x-api-key", "X-Api-Key", "clave_api", "cle_api", "clé_api", "chiave_api",
              "api_schluessel", "api_schlüssel", "chave_api", "api_sleutel", "api_nokkel", "subscription_key",
              "ocp_apim_subscription_key", "access_key_secret", "secret_key", "secretKey", "app_secret",
              "client_secret", "private_token", "personal_access_token", "service_key", "api_token_secret",
              "developer_key", "master_api_key", "rest_api_key", "server_key"]
for f in api_fields:
    v = R.choice([rs(32, HEX), rs(40, string.ascii_letters + string.digits), rs(24, B64U) + rs(8, string.digits)])
    rec({f: v}, classes=["api_key"], note="api key under " + f)
for parent in ["stripe", "sendgrid", "openai", "mapbox", "algolia"]:
    rec({"integrations": {parent: {"secret": rs(40, string.ascii_letters + string.digits)}}}, classes=["api_key"],
        note="secret under integration " + parent)

# api_key hard negatives
for d, n in [
    ({"api_key": "your-api-key-here"}, "fill-in"),
    ({"api_key": "sk_test_" + "X" * 24}, "stripe X placeholder"),
    ({"api_key": "<API_KEY>"}, "angle placeholder"),
    ({"api_key": "${API_KEY}"}, "env reference"),
    ({"apiKey": "x" * 32}, "x run"),
    ({"api_key_id": 12}, "numeric key id"),
    ({"publishable_key": "pk_live_" + rs(24, string.ascii_letters + string.digits)}, "stripe publishable key"),
    ({"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + rs(43, string.ascii_letters + string.digits) + " deploy"}, "ssh public key"),
    ({"key": "settings.profile.title", "lang": "en"}, "i18n key"),
    ({"sha256": rs(64, HEX), "file": "release.tar.gz"}, "file digest"),
    ({"api_version": "2023-10-16"}, "api version"),
    ({"api_key_last4": rs(4, string.digits)}, "last4"),
    ({"api_key_created_at": "2025-01-04T08:00:00Z", "api_key_name": "ci"}, "key metadata"),
    ({"cache_key": "user:%d:profile" % R.randint(1, 9999)}, "cache key"),
    ({"idempotency_key_header": "Idempotency-Key"}, "header name"),
    ({"sku": "SK" + rs(10, string.digits)}, "sku SK"),
    ({"color": "#" + rs(6, HEX)}, "colour"),
]:
    rec(d, classes=[], note="neg: " + n)
rec(text="export OPENAI_API_KEY=$OPENAI_API_KEY before running", classes=[], note="neg: env reference in text")
rec(text="set the api key in settings, see docs for the format sk-...", classes=[], note="neg: prose api key")

# ---------------------------------------------------------------- auth_token
sess_fields = ["session_id", "sessionId", "sid", "sess_id", "session_token", "sessao_id", "id_sessao", "sessione_id",
               "id_sesion", "sesion_id", "sitzungs_id", "sitzungsid", "jeton_session", "id_session", "sessie_id",
               "istunto_id", "oturum_id", "session_key", "sessionKey", "auth_session", "PHPSESSID", "JSESSIONID",
               "ASP.NET_SessionId", "_session_id", "connect.sid", "laravel_session", "remember_token",
               "refresh_token", "refreshToken", "access_token", "accessToken", "id_token", "oauth_token",
               "oauth_access_token", "x-auth-token", "X-Session-Token", "auth_cookie", "login_token",
               "bearer_token", "token_acceso", "jeton_acces", "zugriffstoken", "token_de_sessao", "aws_session_token"]
for f in sess_fields:
    v = R.choice([rs(32, LOWN), rs(26, LOWN), rs(43, B64U), rs(64, HEX), "s%3A" + rs(32, B64U) + "." + rs(43, B64U),
                  rs(60, string.ascii_letters + string.digits)])
    rec({f: v}, classes=["auth_token"], note="session/token under " + f)
for form in ["Set-Cookie: PHPSESSID={v}; path=/; HttpOnly", "Cookie: JSESSIONID={v}; lang=en",
             "GET /api/me?access_token={v} HTTP/1.1", "Authorization: Bearer {v}", "refresh_token={v}&grant_type=refresh_token",
             "session {v} expired for client", "X-Auth-Token: {v}", "oauth_token={v}&oauth_verifier=abc"]:
    v = R.choice([rs(32, LOWN), rs(40, B64U)])
    rec(text=form.format(v=v), classes=["auth_token"], note="token in text: " + form.split("{")[0][:20])
rec({"fb_access_token": "EAAB" + rs(180, string.ascii_letters + string.digits)}, classes=["auth_token"], note="facebook token")
rec({"value": "EAAG" + rs(160, string.ascii_letters + string.digits)}, classes=["auth_token"], note="facebook token by value")
rec({"value": "ya29.a0" + rs(150, B64U)}, classes=["auth_token"], note="google oauth by value")
hdr = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
for f in ["jwt", "value", "id_token", "msg"]:
    claims = json.dumps({"sub": str(R.randint(1000, 99999)), "iat": R.randint(1700000000, 1760000000)}).encode()
    payload = base64.urlsafe_b64encode(claims).decode().rstrip("=")
    rec({f: hdr + "." + payload + "." + rs(43, B64U)}, classes=["auth_token"], note="jwt under " + f)
for parent in ["session", "auth", "oauth", "credentials"]:
    rec({parent: {"token": rs(40, B64U), "expires_in": 3600}}, classes=["auth_token"], note="nested %s.token" % parent)

# auth_token hard negatives
for d, n in [
    ({"next_page_token": rs(40, B64U)}, "pagination token"),
    ({"page_token": rs(32, B64U)}, "page token"),
    ({"continuation_token": rs(48, B64U)}, "continuation token"),
    ({"sync_token": rs(24, LOWN)}, "sync token"),
    ({"token_type": "Bearer", "expires_in": 3600, "scope": "read"}, "token metadata"),
    ({"max_tokens": 4096, "tokenizer": "cl100k_base"}, "llm tokens"),
    ({"token_count": 512}, "token count"),
    ({"session_timeout": 1800, "session_length": 30}, "session settings"),
    ({"session_started_at": "2025-02-01T08:00:00Z"}, "session time"),
    ({"etag": "W/\"" + rs(32, HEX) + "\""}, "etag"),
    ({"csrf_token_header": "X-CSRF-Token"}, "header name"),
    ({"access_token": "<ACCESS_TOKEN>"}, "placeholder"),
    ({"refresh_token": "{{ refresh_token }}"}, "template"),
    ({"session_id": "null"}, "null"),
    ({"tokens_used": {"prompt": 120, "completion": 80}}, "llm usage"),
]:
    rec(d, classes=[], note="neg: " + n)
rec(text="the session ended normally after 30 minutes", classes=[], note="neg: prose session")
rec(text="token expired, please log in again", classes=[], note="neg: prose token")

# ---------------------------------------------------------------- username
def uname():
    first = R.choice(["jdoe", "msmith", "kpatel", "lwong", "admin", "svc-backup", "deploy", "ops_bot", "t.nguyen",
                      "mmueller", "jdupont", "gbianchi", "jperez", "akowalski", "ovirtanen", "ehansen", "ayilmaz",
                      "root", "jenkins", "webmaster", "fm2024", "dev.ops", "ci-runner", "reporting_ro"])
    return first + (str(R.randint(1, 99)) if R.random() < 0.4 else "")


user_fields = ["username", "user_name", "userName", "login", "uname", "usr", "login_name", "logon_name", "logonName",
               "sAMAccountName", "sam_account_name", "account_name", "handle", "screen_name", "nick", "nickname",
               "benutzername", "benutzer", "anmeldename", "utilisateur", "nom_utilisateur", "identifiant", "usuario",
               "nombre_usuario", "utente", "nome_utente", "gebruikersnaam", "gebruiker", "brukernavn", "brugernavn",
               "anvandarnamn", "kayttajatunnus", "kayttaja", "kullanici_adi", "kullanici", "nazwa_uzytkownika",
               "uzytkownik", "usuario_login", "nome_usuario", "db_user", "dbUser", "ssh_user", "ftp_user", "rtsp_user",
               "smtp_user", "os_user", "unix_user", "remote_user", "auth_user", "admin_user", "user_login", "userid",
               "login_id", "principal", "owner_login", "created_by_user", "assignee_login"]
for f in user_fields:
    rec({f: uname()}, classes=["username"], note="username under " + f)
for parent, leaf in [("user", "login"), ("credentials", "user"), ("auth", "user"), ("account", "login"),
                     ("owner", "login"), ("db", "user"), ("mqtt", "username"), ("smtp", "user")]:
    rec({parent: {leaf: uname()}}, classes=["username"], note="nested %s.%s" % (parent, leaf))
for form in ["Login succeeded for user '{u}'", "login failed for user {u}: bad password",
             "user {u} logged in from console", "utilisateur {u} connecté", "Benutzer {u} hat sich angemeldet",
             "usuario {u} inició sesión", "utente {u} disconnesso", "gebruiker {u} ingelogd", "user={u} action=delete",
             "username: {u}", "session opened for user {u} by (uid=0)", "su: (to root) {u} on pts/1"]:
    rec(text=form.format(u=uname()), classes=["username"], note="username in text: " + form[:20])
rec(text="Accepted password for %s from 192.0.2.%d port 52144 ssh2" % (uname(), R.randint(2, 250)),
    classes=["username", "ip_address"], note="sshd accepted")
rec(text="rtsp://%s:%s@192.0.2.%d:554/stream1" % (uname(), rs(10), R.randint(2, 250)),
    classes=["username", "password", "ip_address"], note="rtsp userinfo")
rec(text="postgres://%s:%s@db.example.internal:5432/app" % (uname(), rs(12)), classes=["username", "password"],
    note="dsn userinfo")
rec(text='com.sun.security.auth.module.Krb5LoginModule required username="%s" password="%s";' % (uname(), rs(12)),
    classes=["username", "password"], note="jaas")

# username hard negatives
for d, n in [
    ({"user_agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/121.0"}, "user agent"),
    ({"user_count": 5, "login_attempts": 3}, "counts"),
    ({"username": "${DB_USER}"}, "env reference"),
    ({"username": "{{ db_user }}"}, "template"),
    ({"username": "<username>"}, "angle placeholder"),
    ({"user": "%(user)s"}, "python format"),
    ({"user_id": 123456}, "numeric id"),
    ({"last_login": "2025-01-02T10:00:00Z"}, "last login time"),
    ({"user_type": "admin", "user_role": "editor"}, "user type/role"),
    ({"login_url": "https://login.example.com/"}, "login url"),
    ({"username_min_length": 3, "username_policy": "strict"}, "username policy"),
    ({"login_enabled": True}, "login flag"),
    ({"user": True}, "bool"),
    ({"username": "N/A"}, "n/a"),
]:
    rec(d, classes=[], note="neg: " + n)
for t in ["the user clicked the save button", "for user in users: print(user)", "user not found", "login page rendered in 120 ms",
          "Benutzer nicht gefunden", "utilisateur inconnu"]:
    rec(text=t, classes=[], note="neg: prose user")

# ---------------------------------------------------------------- date_of_birth
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"],
}


def dob():
    y, m, d = R.randint(1940, 2006), R.randint(1, 12), R.randint(1, 28)
    lang = R.choice(list(MONTHS))
    mn = MONTHS[lang][m - 1]
    return R.choice([
        "%04d-%02d-%02d" % (y, m, d), "%02d/%02d/%04d" % (d, m, y), "%02d.%02d.%04d" % (d, m, y),
        "%d.%d.%04d" % (d, m, y), "%04d/%d/%d" % (y, m, d), "%04d%02d%02d" % (y, m, d), "%d-%d-%04d" % (d, m, y),
        "%d %s %04d" % (d, MONTHS["en"][m - 1], y), "%s %d, %04d" % (MONTHS["en"][m - 1], d, y),
        "%02d-%s-%04d" % (d, MONTHS["en"][m - 1][:3], y), "%d %s %04d" % (d, mn, y), "%d. %s %04d" % (d, MONTHS["de"][m - 1], y),
        "%d de %s de %04d" % (d, MONTHS["es"][m - 1], y), "%04d年%d月%d日" % (y, m, d), "%02d/%02d/%02d" % (d, m, y % 100),
        "%04d-%02d-%02dT00:00:00Z" % (y, m, d), "%04d-%d-%d" % (y, m, d),
    ])


dob_fields = ["dob", "DOB", "date_of_birth", "dateOfBirth", "DateOfBirth", "birthDate", "birth_date", "birthdate", "bday",
              "b_day", "birthday", "birth_dt", "dt_birth", "dob_date", "geburtsdatum", "geb_datum", "gebdatum", "geb_dat",
              "geboren_am", "gebdat", "fecha_nacimiento", "fecha_de_nacimiento", "fec_nac", "f_nacimiento", "fnacimiento",
              "date_naissance", "date_de_naissance", "dateNaissance", "ddn", "data_nascita", "data_di_nascita", "dt_nascita",
              "data_nascimento", "dt_nasc", "dataNascimento", "nascimento", "geboortedatum", "geb_datum_nl", "fodselsdato",
              "fødselsdato", "födelsedatum", "fodelsedatum", "foedselsdato", "syntymaaika", "syntymäaika", "syntymapaiva",
              "data_urodzenia", "dogum_tarihi", "doğum_tarihi", "datum_narozeni", "szuletesi_datum", "tanggal_lahir",
              "ngay_sinh", "seinengappi", "birth", "born", "born_on", "data_nasc", "nasc"]
for f in dob_fields:
    key = f.replace("_nl", "")
    rec({key: dob()}, classes=["date_of_birth"], note="dob under " + key)
for parent, leaf in [("birth", "date"), ("patient", "birthDate"), ("person", "born"), ("member", "dob"), ("customer", "geburtsdatum")]:
    rec({parent: {leaf: dob()}}, classes=["date_of_birth"], note="nested %s.%s" % (parent, leaf))
for form in ["DOB: {d}", "patient dob {d}, allergies none", "born on {d}", "date of birth {d}", "geboren am {d}",
             "Geb.-Datum: {d}", "né le {d}", "née le {d} à Lyon", "nacido el {d}", "fecha de nacimiento: {d}",
             "nato il {d}", "nasceu em {d}", "data de nascimento {d}", "fødselsdato {d}", "d.o.b. {d}", "birthday {d}",
             "Geburtsdatum {d}"]:
    y, m, d = R.randint(1940, 2006), R.randint(1, 12), R.randint(1, 28)
    v = R.choice(["%02d/%02d/%04d" % (d, m, y), "%02d.%02d.%04d" % (d, m, y), "%04d-%02d-%02d" % (y, m, d)])
    rec(text=form.format(d=v), classes=["date_of_birth"], note="dob in text: " + form[:16])

# date_of_birth hard negatives
for d, n in [
    ({"created_at": "1985-03-07"}, "created"),
    ({"birth_year": 1985}, "year only"),
    ({"birthday_reminder": True}, "flag"),
    ({"dob": "N/A"}, "n/a"),
    ({"hire_date": "12.04.2015"}, "hire date"),
    ({"expiry_date": "07/28"}, "card expiry"),
    ({"birth_place": "Madrid"}, "birth place"),
    ({"lugar_nacimiento": "Sevilla"}, "lugar nacimiento"),
    ({"geburtsort": "Hamburg"}, "geburtsort"),
    ({"date": "2024-05-01", "amount": 12}, "date"),
    ({"anniversary": "2010-06-12"}, "anniversary"),
    ({"dob_verified": True, "dob_format": "YYYY-MM-DD"}, "dob metadata"),
    ({"released": "7 March 1985", "title": "album"}, "release date"),
]:
    rec(d, classes=[], note="neg: " + n)
for t in ["Born in the USA is a 1984 album", "released on 7 March 1985 in Europe", "invoice dated 07.03.2019 is due",
          "backup from 2024-01-03 restored", "meeting moved to 12/03/2025"]:
    rec(text=t, classes=[], note="neg: prose date")

print("// Weak classes (device_id, api_key, auth_token, username, date_of_birth): generated by tools/weakcases/gen.py")
print("// (seed 20261206) from public format descriptions and field-name tables of many languages, with hard")
print("// negatives. Fake values only. Written without reading heldout_v2.jsonl. Format as hard_cases.jsonl.")
for o in out:
    print(json.dumps(o, ensure_ascii=False))
