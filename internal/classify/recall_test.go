package classify

import (
	"strings"
	"testing"
)

// recallCase: a document and whether a class is present.
type recallCase struct {
	doc     string
	class   string
	present bool
}

func checkCases(t *testing.T, cases []recallCase) {
	t.Helper()
	e := testEngine(t)
	for _, tc := range cases {
		got := classifyOne(t, e, tc.doc)
		if _, ok := got[tc.class]; ok != tc.present {
			t.Errorf("%s: %s present = %v, want %v (classes %v)", tc.doc, tc.class, ok, tc.present, keys(got))
		}
	}
}

// TestPersonNamesInText: cue words, honorifics, greetings, signature lines,
// middle initials and the name lists find people in prose; streets named
// after people, firms and places do not.
func TestPersonNamesInText(t *testing.T) {
	p := ClassPersonName
	checkCases(t, []recallCase{
		{`{"message":"My name is Oyelaran Tchakounte"}`, p, true},                  // cue, no list entry
		{`{"message":"Please ask Mr. Brzęczyszczykiewicz to call back"}`, p, true}, // honorific
		{`{"message":"Hi Ingrid, the parcel is ready"}`, p, true},                  // greeting
		{`{"message":"I want to add Laila Hansen as a beneficiary"}`, p, true},     // lists
		{`{"message":"Ravil G Yefimov will call"}`, p, true},                       // middle initial
		{`{"message":"Regards,\nMatteo Bianchi\nSales"}`, p, true},                 // signature line
		{`{"message":"\"Nothing changes,\" says Okafor."}`, p, true},               // "says"
		{`{"message":"Everyone calls me Csanád"}`, p, true},                        // "calls me"
		{`{"message":"It was Wisława Szczepańska's house"}`, p, true},              // possessive
		{`{"message":"Kevin had given Alma the keys"}`, p, true},                   // lone given names
		{`{"message":"Hallo, ich heiße Oyelaran Tchakounte"}`, p, true},            // German cue
		{`{"message":"Hola, me llamo Oyelaran"}`, p, true},                         // Spanish cue
		{`{"message":"Bonjour, je m'appelle Oyelaran"}`, p, true},                  // French cue
		{`{"message":"Ciao, mi chiamo Oyelaran"}`, p, true},                        // Italian cue
		{`{"message":"The bus stops at Joaquin Suarez 2906"}`, p, false},           // a street
		{`{"message":"meet at the corner of Main St and Elisabeth Parks"}`, p, false},
		{`{"message":"Russell Investments is based in Leeds"}`, p, false},     // a firm
		{`{"message":"Clark, Romero and Hall is a design agency"}`, p, false}, // a firm
		{`{"message":"France was super fun to visit"}`, p, false},             // a country
		{`{"message":"Made from recycled materials"}`, p, false},              // a capitalised word
		{`{"message":"The Service Desk opens on Monday"}`, p, false},
		{`{"message":"Connection refused by Server Alpha at 10:42"}`, p, false}, // system words
		{`{"message":"Lincoln Memorial closed for repairs"}`, p, false},         // a place's name
		{`{"message":"Bill Gates founded Microsoft"}`, p, true},
		{`{"user_agent":"Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X)"}`, p, false},
		{`{"product":{"name":"John Deere Tractor"}}`, p, false},
	})
}

// TestAddressesInText: the address grammar of each convention.
func TestAddressesInText(t *testing.T) {
	a := ClassPostalAddress
	checkCases(t, []recallCase{
		{`{"message":"send it to 14 Crown Street, London"}`, a, true},      // English
		{`{"message":"we live at 1659 Hoog St now"}`, a, true},             // abbreviation
		{`{"message":"Lieferung an Villacher Strasse 89 bitte"}`, a, true}, // German
		{`{"message":"Adres: Brixtonlaan 380, Brussel"}`, a, true},         // Dutch
		{`{"message":"bor på Hammarvägen 15 i Lund"}`, a, true},            // Swedish
		{`{"message":"osoite Koskikatu 25, Oulu"}`, a, true},               // Finnish
		{`{"message":"Vesterskovvej 79, 8000 Aarhus"}`, a, true},           // Danish
		{`{"message":"rendez-vous Rue de Piétrain 371"}`, a, true},         // French
		{`{"message":"abito in Via delle Coste 41"}`, a, true},             // Italian
		{`{"message":"vivo en Calle Mayor 5, Madrid"}`, a, true},           // Spanish
		{`{"message":"moro na Avenida Otoniel Dutra 1277"}`, a, true},      // Portuguese
		{`{"message":"mieszkam ul. Miła 57, Rzeszów"}`, a, true},           // Polish
		{`{"message":"Kálmán Imre u. 12. Budapest"}`, a, true},             // Hungarian
		{`{"message":"write to P.O. Box 104"}`, a, true},                   // post box
		{`{"message":"PSC 7951, Box 9972\nAPO AA 69974"}`, a, true},        // military
		{`{"message":"we sold 3 items on Monday"}`, a, false},
		{`{"message":"Windows 10 and Python 3 installed"}`, a, false},
		{`{"message":"version 2 of the Street Fighter game"}`, a, false},
		// a long address under "address" keeps its class (> 64 bytes)
		{`{"address":"Apartment 12B, 1600 Pennsylvania Avenue Northwest, Washington, DC 20500, United States"}`, a, true},
	})
}

// TestNationalPhonesInText: numbers written without "+".
func TestNationalPhonesInText(t *testing.T) {
	ph := ClassPhone
	checkCases(t, []recallCase{
		{`{"message":"stop texting 618-226-1460 please"}`, ph, true},
		{`{"message":"office (08) 8747 6301 ext"}`, ph, true},
		{`{"message":"Phone: 60-56-85-91"}`, ph, true},       // Danish, next to a phone word
		{`{"message":"call 024 971 50 30 today"}`, ph, true}, // trunk prefix
		{`{"message":"mobile: 99 577450"}`, ph, true},
		{`{"message":"When: 2000-04-16 11:34:35"}`, ph, false},      // a timestamp
		{`{"message":"licence 2270-66-1551"}`, ph, false},           // not NANP grouping
		{`{"message":"ZIP 12345-6789"}`, ph, false},                 // ZIP+4
		{`{"message":"host 10.12.130.4 is down"}`, ph, false},       // IPv4
		{`{"message":"order 4539 1488 0343 6467 paid"}`, ph, false}, // a card
		{`{"message":"call +49 051 23456789 now"}`, ph, false},      // invalid international stays invalid
	})
}

// TestValueOnly: classes found by the value alone under neutral field
// names (issue 12 item 3), and the values that stay unclassified.
func TestValueOnly(t *testing.T) {
	checkCases(t, []recallCase{
		{`{"v":"NETGEAR42"}`, ClassWifiSSID, true},
		{`{"v":"TP-Link_2A4F"}`, ClassWifiSSID, true},
		{`{"v":"FRITZ!Box 7590 XY"}`, ClassWifiSSID, true},
		{`{"v":"Livebox-1A2B"}`, ClassWifiSSID, true},
		{`{"v":"BTHub6-ABCD"}`, ClassWifiSSID, true},
		{`{"v":"NETGEAR"}`, ClassWifiSSID, false},
		{`{"v":"SKYLINE"}`, ClassWifiSSID, false},
		{`{"v":"Hikvision DS-2CD2142FWD-I"}`, ClassDeviceModel, true},
		{`{"v":"DS-2CD2042WD-I"}`, ClassDeviceModel, true},
		{`{"v":"SM-G991B"}`, ClassDeviceModel, true},
		{`{"v":"Reolink RLC-410"}`, ClassDeviceModel, true},
		{`{"v":"Apple iPhone 13 Pro"}`, ClassDeviceModel, true},
		{`{"v":"Ring the bell"}`, ClassDeviceModel, false},
		{`{"v":"Apple pie"}`, ClassDeviceModel, false},
		{`{"v":"q8Xv2LmN4pR7sT1wY9zB3cD6fG0hJ5kM"}`, ClassAuthToken, true},
		{`{"v":"5d41402abc4b2a76b9719d911017c592"}`, ClassAuthToken, false},        // hex digest
		{`{"v":"0b5e6f8a-3c1d-4e2f-9a7b-1c2d3e4f5a6b"}`, ClassAuthToken, false},    // UUID
		{`{"v":"ghp_R2d2C3poL8kW4mN6pQ9sT1vX3zB5dF7hJ0l"}`, ClassAuthToken, false}, // provider prefix, invalid
		{`{"v":"ThisIsAVeryLongCamelCaseIdentifierName2"}`, ClassAuthToken, false}, // low entropy
		{`{"v":"536-22-8714"}`, ClassNationalID, true},                             // SSN
		{`{"v":"666-22-8714"}`, ClassNationalID, false},                            // SSN area 666
		{`{"v":"12345678Z"}`, ClassNationalID, true},                               // DNI check letter
		{`{"v":"12345678L"}`, ClassNationalID, false},                              // wrong letter
		{`{"v":"Teresa Kreutzmann"}`, ClassPersonName, true},                       // given name + unknown
		{`{"v":"Kevin"}`, ClassPersonName, true},                                   // a given name
		{`{"v":"Abt Associates"}`, ClassPersonName, false},                         // a firm
		{`{"v":"618-226-1460"}`, ClassPhone, true},
		{`{"v":"22 Pollen Crescent"}`, ClassPostalAddress, true},
	})
}

// TestPrecisionFixes: issue 12's precision problems stay fixed.
func TestPrecisionFixes(t *testing.T) {
	checkCases(t, []recallCase{
		// strong national-id names no longer accept values whose checks fail
		{`{"ssn":"000-12-3456"}`, ClassNationalID, false},
		{`{"ssn":"666-12-3456"}`, ClassNationalID, false},
		{`{"ssn":"536-22-8714"}`, ClassNationalID, true},
		{`{"nino":"QQ123456C"}`, ClassNationalID, false},
		{`{"dni":"12345678L"}`, ClassNationalID, false},
		{`{"dni":"12345678Z"}`, ClassNationalID, true},
		{`{"passport":"X1234567"}`, ClassNationalID, true}, // no checks: the field decides
		// 16 digits inside a grouped IBAN in text are no card
		{`{"message":"Überweisung auf DE89 3704 0044 0532 0130 00 bis Freitag"}`, ClassPaymentCard, false},
		{`{"message":"Überweisung auf DE89 3704 0044 0532 0130 00 bis Freitag"}`, ClassBankAccount, true},
		// a bare "name" with a single given name or an unlisted first word
		{`{"name":"Ingrid"}`, ClassPersonName, true},
		{`{"name":"Oyelaran Hansen"}`, ClassPersonName, true},
		{`{"name":"Steel Water Bottle"}`, ClassPersonName, false},
		{`{"name":"Szabina J Gelencsér"}`, ClassPersonName, true},  // a middle initial
		{`{"name":"Bekbolat Musliyevich"}`, ClassPersonName, true}, // a surname ending
		{`{"name":"Quarterly Revenue Report"}`, ClassPersonName, false},
		// legacy 15-digit JCB and 12-digit Maestro beside a card word
		{`{"message":"Can I withdraw cash using my card 213176828496175 at an ATM?"}`, ClassPaymentCard, true},
		{`{"message":"What is the limit for card 501864667909?"}`, ClassPaymentCard, true},
		{`{"message":"order 501864667909 shipped"}`, ClassPaymentCard, false},
		// long values keep their field class
		{`{"address":"` + strings.Repeat("Flat 3, ", 1) + `The Old Rectory, 17 Church Lane, Little Snoring, Fakenham, Norfolk NR21 0AA"}`, ClassPostalAddress, true},
	})
}

// TestPhoneRegionFromCountryField: a country field of the record tells the
// region a national number is read in.
func TestPhoneRegionFromCountryField(t *testing.T) {
	checkCases(t, []recallCase{
		{`{"country":"DK","phone":"32 12 34 56"}`, ClassPhone, true},
		{`{"phone":"32 12 34 56"}`, ClassPhone, false},
		{`{"address":{"country":"Denmark"},"note":"32 12 34 56"}`, ClassPhone, true},
		{`{"note":"32 12 34 56"}`, ClassPhone, false},
		{`{"country":"Atlantis","note":"32 12 34 56"}`, ClassPhone, false},
	})
}
