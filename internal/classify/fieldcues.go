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
		"geraete id:0.9", "gerate nummer:0.85", "id dispositivo:0.9", "identifiant appareil:0.9", "dev id:0.8",
		"devid:0.8", "hw id:0.85",
	},
	cPostalAddress: {
		"adres:0.8", "adresa:0.8", "ulica:0.85", "kod pocztowy:0.6", "postnummer:0.6", "postinumero:0.6",
		"gatuadress:0.9", "osoite:0.8", "adresse postale:0.95", "direccion postal:0.95", "morada:0.85",
		"wohnort:0.75", "wohnadresse:0.95", "lieferadresse:0.95", "rechnungsadresse:0.95",
	},
	cDOB: {
		"data nascita:0.95", "data urodzenia:0.95", "fodselsdato:0.95", "födelsedatum:0.95", "syntymaaika:0.95",
		"dogum tarihi:0.95",
	},
	cPhone: {
		"tfn:0.8", "tlf:0.85", "tel nr:0.9", "telnr:0.9", "telefonnr:0.9", "puhelin:0.9", "telefone:0.9",
		"numero telefono:0.95", "num tel:0.9", "mob:0.75", "gsm:0.8", "portable number:0.9",
	},
	cUsername: {
		"usr:0.7", "uname:0.8", "nutzername:0.9", "anmeldename:0.9", "brukernavn:0.9", "anvandarnamn:0.9",
		"användarnamn:0.9", "kayttajatunnus:0.9", "käyttäjätunnus:0.9", "nazwa uzytkownika:0.9",
	},
	cNationalID: {
		"ni number:0.9", "ni no:0.9", "numero dni:0.95", "documento identidad:0.9", "cedula:0.85",
		"cédula:0.85", "rut:0.7", "curp:0.9", "henkilotunnus:0.95", "personnr:0.95", "fodselsnummer:0.95",
	},
}

func init() {
	for c, terms := range fieldCues {
		classTable[c].terms = append(classTable[c].terms, terms...)
	}
}
