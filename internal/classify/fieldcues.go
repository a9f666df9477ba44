package classify

// Field-name cues in more languages and their abbreviations, one table per
// class (issue 12 item 2). They join each class's classDef.terms when the
// term matcher is built, so the same modifier and parent rules apply
// (path.go); fieldcues_test.go checks every language.
var fieldCues = map[class][]string{
	cPersonName: {
		// German, Spanish, French, Italian, Portuguese, Dutch, Polish,
		// Nordic, Turkish; abbreviations
		"vollstandiger name:0.9", "vollständiger name:0.9", "kunde name:0.85", "nombre y apellidos:0.95",
		"nom complet:0.95", "nom prenom:0.9", "nome e cognome:0.95", "nome proprio:0.9", "sobrenome:0.9",
		"volledige naam:0.95", "imie:0.9", "imię:0.9", "nazwisko:0.9", "fornavn:0.9", "efternavn:0.9",
		"etternavn:0.9", "fornamn:0.9", "förnamn:0.9", "efternamn:0.9", "etunimi:0.9", "sukunimi:0.9",
		"ad soyad:0.9", "soyad:0.9", "fullname:0.9", "fullnm:0.8", "firstnm:0.8", "lastnm:0.8",
		"fn:0.5", "ln:0.5", "contact person:0.9", "signed by:0.8", "signatory:0.8",
	},
	cGeo: {
		"breitengrad:0.95", "laengengrad:0.95", "längengrad:0.95", "latitud:0.95", "longitud:0.95",
		"coordenadas:0.9", "coordonnees:0.9", "coordonnées:0.9", "coordinate gps:0.95", "koordinaten:0.9",
		"posizione gps:0.9", "geom:0.7", "geometry:0.7",
	},
	cAuthToken: {
		"sessao:0.8", "sessão:0.8", "sessao id:0.9", "id sessao:0.9", "sessione:0.75", "sessione id:0.9", "id sessione:0.9", "id sesion:0.9", "sesion id:0.9", "sitzungs id:0.9", "sitzungsid:0.9", "sitzungs token:0.95", "sessie:0.75", "sessie id:0.9", "istunto:0.75", "istunto id:0.9", "oturum:0.75", "oturum id:0.9", "jeton acces:0.95", "jeton d acces:0.95", "token de sessao:0.95", "token sessao:0.95", "token de sesion:0.95", "zugriffstoken:0.95", "sessiontoken:0.95", "x auth token:0.95", "x session token:0.95", "auth cookie:0.9", "session cookie:0.9", "aws session token:0.95",
		"tok:0.7", "tkn:0.75", "sess:0.7", "sesion:0.8", "sesión:0.8", "token acceso:0.95",
		"token de acceso:0.95", "jeton:0.8", "jeton d acces:0.95", "zugangstoken:0.95", "sitzung:0.7",
		"gettone:0.7", "access tok:0.9", "auth tok:0.9", "authtok:0.9",
	},
	cWifiSSID: {
		"ap:0.6", "ap name:0.9", "netzwerkname:0.9", "wlan name:0.95", "nombre wifi:0.95", "red inalambrica:0.9",
		"nom reseau:0.9", "nome rete:0.9", "rete wifi:0.9", "netwerknaam:0.9", "wifi navn:0.9", "ssid name:0.95",
	},
	cDeviceModel: {
		"hw:0.6", "hw ver model:0.8", "geratetyp:0.8", "geraetetyp:0.8", "gerätetyp:0.8", "modelo dispositivo:0.95",
		"modele appareil:0.95", "modello:0.8", "dispositivo modello:0.95", "apparaat model:0.9", "mdl:0.7",
	},
	cDeviceID: {
		"seriennummer:0.9", "serien nr:0.9", "seriennr:0.9", "numero serie:0.9", "numero de serie:0.9", "num serie:0.85", "numéro de série:0.9", "numero di serie:0.9", "número de serie:0.9", "número de série:0.9", "serienummer:0.9", "sarjanumero:0.9", "numer seryjny:0.9", "seri no:0.9", "seri numarasi:0.9", "seri numarası:0.9", "s n:0.7", "ssaid:0.95", "identifier for vendor:0.95", "advertising identifier:0.95", "aaid:0.9", "oaid:0.9", "device uid:0.95", "device guid:0.95", "hardware uuid:0.95", "dev uid:0.9", "terminal id:0.7", "uuid dispositivo:0.9", "id apparecchio:0.9", "apparaat id:0.9", "enhet id:0.85", "enheds id:0.85", "laite id:0.9", "laitetunnus:0.9", "urzadzenie id:0.9", "id urzadzenia:0.9", "cihaz id:0.9", "p2p uid:0.95", "p2p id:0.9", "cam uid:0.95", "tutk uid:0.95", "camera uid:0.95", "iccid:0.95", "sim iccid:0.95", "esn:0.8", "dev eui:0.95", "deveui:0.95", "imei1:0.95", "imei2:0.95", "zigbee ieee:0.85", "hw serial:0.95", "board serial:0.9", "chassis serial:0.9", "device sn:0.9", "dev sn:0.9",
		"geraete id:0.9", "gerate nummer:0.85", "id dispositivo:0.9", "identifiant appareil:0.9", "dev id:0.8",
		"devid:0.8", "hw id:0.85",
	},
	cPostalAddress: {
		"adres:0.8", "adresa:0.8", "ulica:0.85", "kod pocztowy:0.6", "postnummer:0.6", "postinumero:0.6",
		"gatuadress:0.9", "osoite:0.8", "adresse postale:0.95", "direccion postal:0.95", "morada:0.85",
		"wohnort:0.75", "wohnadresse:0.95", "lieferadresse:0.95", "rechnungsadresse:0.95",
	},
	cDOB: {
		"b day:0.85", "nasc:0.8", "geb datum:0.95", "gebdatum:0.95", "geb dat:0.9", "gebdat:0.9", "geboren am:0.95", "geboren:0.85", "fec nac:0.9", "fecha nac:0.95", "f nacimiento:0.9", "fnacimiento:0.9", "fnac:0.8", "date naissance:0.95", "datenaissance:0.95", "ddn:0.8", "dt naissance:0.9", "dt nascita:0.95", "data nasc:0.9", "dt nasc:0.9", "nascimento:0.9", "nascita:0.85", "fødselsdato:0.95", "foedselsdato:0.95", "fodelsedatum:0.95", "födelsedag:0.85", "fodelsedag:0.85", "fødselsdag:0.85", "fodselsdag:0.85", "syntymäaika:0.95", "syntymapaiva:0.9", "syntymäpäivä:0.9", "doğum tarihi:0.95", "datum narozeni:0.95", "datum narození:0.95", "datum rodjenja:0.95", "datum rođenja:0.95", "szuletesi datum:0.95", "születési dátum:0.95", "tanggal lahir:0.95", "ngay sinh:0.95", "seinengappi:0.95", "birth dt:0.95", "dt birth:0.95", "dob date:0.95", "date naiss:0.9", "datum geboorte:0.95", "geboortedag:0.85",
		"data nascita:0.95", "data urodzenia:0.95", "fodselsdato:0.95", "födelsedatum:0.95", "syntymaaika:0.95",
		"dogum tarihi:0.95",
	},
	cPhone: {
		"tfn:0.8", "tlf:0.85", "tel nr:0.9", "telnr:0.9", "telefonnr:0.9", "puhelin:0.9", "telefone:0.9",
		"numero telefono:0.95", "num tel:0.9", "mob:0.75", "gsm:0.8", "portable number:0.9",
	},
	cUsername: {
		"logon name:0.9", "logonname:0.9", "logon:0.75", "gebruiker:0.7", "brugernavn:0.9", "bruker:0.7", "anvandare:0.7", "användare:0.7", "kayttaja:0.7", "käyttäjä:0.7", "kullanici adi:0.9", "kullanıcı adı:0.9", "kullanici:0.7", "kullanıcı:0.7", "uzytkownik:0.7", "użytkownik:0.7", "nome usuario:0.9", "nome de usuario:0.9", "nome utilizador:0.9", "utilizador:0.7", "userid:0.7", "principal:0.6", "sam account name:0.95", "samaccountname:0.95", "uzivatel:0.7", "felhasznalo:0.7", "felhasznalonev:0.9",
		"usr:0.7", "uname:0.8", "nutzername:0.9", "anmeldename:0.9", "brukernavn:0.9", "anvandarnamn:0.9",
		"användarnamn:0.9", "kayttajatunnus:0.9", "käyttäjätunnus:0.9", "nazwa uzytkownika:0.9",
	},
	cNationalID: {
		"ni number:0.9", "ni no:0.9", "numero dni:0.95", "documento identidad:0.9", "cedula:0.85",
		"cédula:0.85", "rut:0.7", "curp:0.9", "henkilotunnus:0.95", "personnr:0.95", "fodselsnummer:0.95",
	},
	cAPIKey: {
		"clave api:0.95", "clave de api:0.95", "cle api:0.95", "clé api:0.95", "chiave api:0.95", "api schluessel:0.95", "api schlüssel:0.95", "chave api:0.95", "chave de api:0.95", "api sleutel:0.95", "api nokkel:0.95", "api nøkkel:0.95", "api nyckel:0.95", "api avain:0.95", "api anahtari:0.95", "klucz api:0.95", "subscription key:0.9", "ocp apim subscription key:0.95", "access key secret:0.95", "private token:0.9", "personal access token:0.95", "service key:0.85", "developer key:0.9", "server key:0.85", "master api key:0.95", "rest api key:0.95", "api token secret:0.95", "integration key:0.85",
	},
}

func init() {
	for c, terms := range fieldCues {
		classTable[c].terms = append(classTable[c].terms, terms...)
	}
}
