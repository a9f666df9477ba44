package classify

import (
	"bytes"
	"compress/gzip"
	_ "embed" // name lists
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Given-name and surname lists of many countries, from the Faker package's
// locales (MIT; namedata/LICENSE.md, built by tools/namelists/extract.py):
// one lower-case name a line, front-coded, gzip (~140 KB embedded, ~52,000
// names, a few MB once loaded on first use).
var (
	//go:embed namedata/given.txt.gz
	givenGz []byte
	//go:embed namedata/surnames.txt.gz
	surnamesGz []byte
)

const (
	nameGiven   uint8 = 1 << iota // a given name in some locale
	nameSurname                   // a surname in some locale
	nameStop                      // an ordinary word: no evidence of a name
)

var (
	nameOnce  sync.Once
	nameTable map[string]uint8
)

// nameWords returns the name table, loading it on first use.
func nameWords() map[string]uint8 {
	nameOnce.Do(func() {
		m := make(map[string]uint8, 56000)
		decodeNames(givenGz, nameGiven, m)
		decodeNames(surnamesGz, nameSurname, m)
		for _, w := range strings.Fields(nameStopWords) {
			m[w] |= nameStop
		}
		nameTable = m
	})
	return nameTable
}

// decodeNames reads one front-coded list: each line is a byte '0'+k (k
// bytes shared with the previous name) and the rest of the name.
func decodeNames(gz []byte, flag uint8, m map[string]uint8) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic("classify: embedded name list: " + err.Error())
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("classify: embedded name list: " + err.Error())
	}
	var prev []byte
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 1 {
			break
		}
		line := data[:nl]
		data = data[nl+1:]
		k := int(line[0] - '0')
		if k > len(prev) {
			k = len(prev)
		}
		cur := append(append([]byte(nil), prev[:k]...), line[1:]...)
		m[string(cur)] |= flag
		prev = cur
	}
}

// nameFlags looks a word up (any case).
func nameFlags(w string) uint8 {
	if len(w) < 2 || len(w) > 24 {
		return 0
	}
	var b [100]byte
	buf := b[:0]
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		for i := 0; i < len(w); i++ {
			c := w[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
	} else {
		for _, r := range w {
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		}
	}
	return nameWords()[string(buf)]
}

// nameStopWords are capitalised words that are no evidence of a person
// though some locale has them as a name: function words, sentence starters,
// days and months, titles of things, street, place and organisation words.
const nameStopWords = `
a an the and or but nor so yet for of in on at to by from with without about above after again against
all am any are as be because been before being below between both can could did do does doing down
during each few further had has have having he her here hers herself him himself his how i if into is
it its itself just me more most my myself no not now off once only other our ours out over own same she
should some such than that their theirs them then there these they this those through too under until
up very was we were what when where which while who whom why will would you your yours yourself
hi hello hey dear thanks thank please regards best cheers sincerely kind yes ok okay sorry welcome
good great bad new old big small little long short high low last next first second third final
one two three four five six seven eight nine ten hundred thousand million
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight
january february march april may june july august september october november december
mr mrs ms miss dr prof sir madam mister doctor professor captain general president king queen prince
princess lord lady saint st st. jr sr
street st road rd avenue ave lane ln drive dr boulevard blvd court ct place pl way square
terrace parkway highway circle trail crescent close gardens grove row walk alley plaza point ridge
park hill hills lake river mount mountain valley bridge island islands port bay beach forest field
fields green greens mall lodge pass turnpike station centre center harbor harbour view heights
north south east west northern southern eastern western central upper lower
city town village county state country republic kingdom united states america american european
inc ltd llc gmbh co corp company group bank associates partners holdings university college school
hospital church club hotel restaurant cafe shop store market international national global services
solutions systems technologies media press news times daily weekly journal
love hope joy faith grace glory honor honour justice liberty star sky sun moon rain snow summer winter
spring autumn fall
white black red blue brown grey gray golden silver
card credit debit account number phone email address name code zip postal box suite apt apartment unit
floor building room
please could would should can't don't i'm i'll i've you're we're it's that's
car home house office work job music song film movie book art world life time day week month year
man men woman women boy girl child children people person family friend friends team
water fire earth air gold iron stone wood rose lily ivy holly daisy iris heather dawn
will may can must shall might
bot user customer agent admin manager support server client node cluster service gateway module worker
host proxy router switch alpha beta gamma delta omega prod production staging test dev
cam camera pro max mini plus lite ultra hub router tv smart door doorbell lamp light speaker watch tablet
pad air cable charger bottle hose garden desk chair table notebook
american british english scottish welsh irish french german spanish italian portuguese dutch belgian
swiss austrian polish czech slovak slovenian croatian serbian bosnian hungarian romanian bulgarian greek
turkish russian ukrainian belarusian lithuanian latvian estonian finnish swedish norwegian danish icelandic
chinese japanese korean indian pakistani arab arabic persian israeli egyptian moroccan nigerian kenyan
mexican brazilian argentinian argentine chilean colombian peruvian venezuelan cuban canadian australian
african asian european latin hispanic jewish muslim christian catholic protestant buddhist hindu
san santa santo são sao los las fort lake cape mount port saint sainte
afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan bahamas
bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana brazil brunei
bulgaria burundi cambodia cameroon canada chad chile china colombia comoros congo croatia cuba cyprus
czechia denmark djibouti dominica ecuador egypt eritrea estonia eswatini ethiopia fiji finland france
gabon gambia georgia germany ghana greece grenada guatemala guinea guyana haiti honduras hungary iceland
india indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati kosovo
kuwait laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi
malaysia maldives mali malta mauritania mauritius mexico moldova monaco mongolia montenegro morocco
mozambique myanmar namibia nauru nepal netherlands nicaragua niger nigeria norway oman pakistan palau
panama paraguay peru philippines poland portugal qatar romania russia rwanda samoa senegal serbia
seychelles singapore slovakia slovenia somalia spain sudan suriname sweden switzerland syria taiwan
tajikistan tanzania thailand togo tonga tunisia turkey turkmenistan tuvalu uganda ukraine uruguay
uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe england scotland wales britain europe asia
africa
`
