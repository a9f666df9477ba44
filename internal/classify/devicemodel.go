package classify

import "strings"

// Device models by value alone: a vendor of the catalogue (cameras, video
// recorders, routers, phones) followed by a model designation with a digit
// or a product-line word ("Hikvision DS-2CD2142FWD-I", "Reolink RLC-410",
// "Netgear R7000", "iPhone 13 Pro", "Galaxy S21"), or a vendor's own model
// code ("SM-G991B", "DS-2CD2042WD-I", "IPC-HDW2431T").

// deviceVendors are lower-case vendor and product-line names.
var deviceVendors = toSet(
	// cameras, recorders, doorbells
	"hikvision", "dahua", "axis", "foscam", "reolink", "wyze", "arlo", "amcrest", "vivotek", "hanwha",
	"uniview", "annke", "lorex", "swann", "ezviz", "imou", "ring", "nest", "eufy", "blink", "yi",
	"tapo", "geovision", "mobotix", "bosch", "panasonic", "avtech", "tvt", "milesight",
	// routers, access points, NAS
	"netgear", "linksys", "tp-link", "tplink", "d-link", "dlink", "asus", "ubiquiti", "unifi", "mikrotik",
	"zyxel", "tenda", "fritz!box", "fritzbox", "draytek", "synology", "qnap", "cisco", "meraki", "aruba",
	"ruckus", "sagemcom", "technicolor", "arris", "zte", "huawei", "totolink", "mercusys", "keenetic",
	"eero", "orbi", "deco",
	// phones, tablets
	"iphone", "ipad", "galaxy", "pixel", "xiaomi", "redmi", "poco", "oneplus", "honor", "oppo", "vivo",
	"motorola", "moto", "nokia", "xperia", "realme", "lg", "sony", "samsung", "apple", "google",
)

// modelLineWords may stand for a model without a digit ("iPhone Pro Max",
// "Nest Cam IQ", "Ring Doorbell").
var modelLineWords = toSet("pro", "max", "mini", "plus", "ultra", "lite", "cam", "doorbell", "outdoor",
	"indoor", "iq", "edge", "note", "fold", "flip", "se", "air", "hub", "dome", "bullet", "turret")

// catalogModel reports a value that names a catalogued device model.
func catalogModel(v string) bool {
	if len(v) < 4 || len(v) > 64 {
		return false
	}
	if modelCode(v) {
		return true
	}
	// the first word must name a vendor (checked first: most values fail
	// here)
	i0 := 0
	for i0 < len(v) && v[i0] == ' ' {
		i0++
	}
	j0 := len(v)
	if sp := strings.IndexByte(v[i0:], ' '); sp >= 0 {
		j0 = i0 + sp
	}
	k0 := j0
	for k0 < len(v) && v[k0] == ' ' {
		k0++
	}
	if k0 == len(v) || !lowerIn(deviceVendors, v[i0:j0]) {
		return false // one word, or no vendor first
	}
	// words without allocating: [start, end) pairs
	var ws [6][2]int
	n := 0
	for i := 0; i < len(v); {
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i == len(v) {
			break
		}
		if n == len(ws) {
			return false
		}
		j := i
		for j < len(v) && v[j] != ' ' {
			j++
		}
		ws[n] = [2]int{i, j}
		n++
		i = j
	}
	if n < 2 || !lowerIn(deviceVendors, v[ws[0][0]:ws[0][1]]) {
		return false
	}
	k := 0
	if n > 2 && lowerIn(deviceVendors, v[ws[1][0]:ws[1][1]]) {
		k = 1 // "Apple iPhone 13", "Samsung Galaxy S21"
	}
	for _, w := range ws[k+1 : n] {
		t := v[w[0]:w[1]]
		if hasDigit(t) && len(t) <= 20 || lowerIn(modelLineWords, t) {
			return true
		}
	}
	return false
}

// lowerIn looks w up in a set of lower-case words without allocating.
func lowerIn(set map[string]bool, w string) bool {
	if len(w) > 32 {
		return false
	}
	var b [32]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return set[string(b[:len(w)])]
}

// modelCode: vendor model codes — Samsung "SM-G991B", Hikvision
// "DS-2CD2142FWD-I", Dahua "IPC-HDW2431T"/"DH-…", Apple "iPhone14,2".
func modelCode(v string) bool {
	switch {
	case strings.HasPrefix(v, "SM-") && len(v) >= 7 && len(v) <= 12 && v[3] >= 'A' && v[3] <= 'Z' && isDigits(v[4:7]):
		return true
	case strings.HasPrefix(v, "DS-") && len(v) >= 9 && len(v) <= 24 && v[3] >= '0' && v[3] <= '9' && upperDigitDash(v[3:]):
		return true
	case (strings.HasPrefix(v, "IPC-") || strings.HasPrefix(v, "DH-") || strings.HasPrefix(v, "NVR")) && len(v) >= 7 && len(v) <= 24 && hasDigit(v) && upperDigitDash(v):
		return true
	case (strings.HasPrefix(v, "iPhone") || strings.HasPrefix(v, "iPad")) && strings.IndexByte(v, ',') > 0 && len(v) <= 12:
		i := strings.IndexAny(v, "0123456789")
		return i > 0 && isDigits(strings.Replace(v[i:], ",", "", 1))
	}
	return false
}

func upperDigitDash(s string) bool {
	return allIn(s, func(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '/' })
}
