package classify

import "strings"

// Wi-Fi network names by value alone: the default SSIDs routers, ISP boxes
// and phone hotspots ship with — a vendor or ISP prefix and a short
// per-device suffix ("NETGEAR42", "TP-Link_2A4F", "FRITZ!Box 7590 XY",
// "Livebox-1A2B", "BTHub6-ABCD", "VM1234567", "DIRECT-xy-HP LaserJet").

// ssidPrefixes: vendor and ISP default SSID prefixes. needSuffix says the
// prefix is an ordinary word and counts only with a per-device suffix that
// has a digit.
var ssidPrefixes = []struct {
	p          string
	needSuffix bool
}{
	{"NETGEAR", true}, {"Linksys", true}, {"linksys", true}, {"TP-Link_", true}, {"TP-LINK_", true},
	{"TPLINK", true}, {"dlink", true}, {"D-Link", true}, {"DLINK", true}, {"ASUS_", true}, {"ASUS", true},
	{"Tenda_", true}, {"MERCUSYS_", true}, {"Xiaomi_", true}, {"Redmi_", true}, {"HUAWEI-", true},
	{"Huawei-", true}, {"HUAWEI_", true}, {"ZTE_", true}, {"ZTE-", true}, {"Keenetic-", true},
	{"MikroTik-", true}, {"ARRIS-", true}, {"Ubee", true}, {"TOTOLINK_", true}, {"Tenda", true},
	{"FRITZ!Box", false}, {"Vodafone-", true}, {"VodafoneMobileWiFi-", true}, {"Telekom-", true},
	{"WLAN-", true}, {"o2-WLAN", true}, {"EasyBox-", true}, {"Livebox-", true}, {"Freebox-", true},
	{"SFR_", true}, {"SFR-", true}, {"Bbox-", true}, {"MOVISTAR_", true}, {"MiFibra-", true},
	{"Orange-", true}, {"SKY", true}, {"BTHub", true}, {"BT-", true}, {"BTWifi", false},
	{"VM", true}, {"VIRGIN", true}, {"TALKTALK", true}, {"PLUSNET-", true}, {"EE-", true},
	{"ATT", true}, {"2WIRE", true}, {"xfinitywifi", false}, {"XFINITY", false}, {"CenturyLink", true},
	{"MySpectrumWiFi", true}, {"SpectrumSetup-", true}, {"UPC", true}, {"Ziggo", true},
	{"TELUS", true}, {"BELL", true}, {"Sunrise_", true}, {"FASTWEB-", true}, {"TIM-", true},
	{"Infostrada", true}, {"WIND-", true}, {"DIRECT-", true}, {"AndroidAP", false},
	{"Verizon_", true}, {"Fios-", true}, {"NOS-", true}, {"MEO-", true}, {"Jazztel_", true},
	{"Proximus-", true}, {"Telenet", true}, {"KPN", true}, {"Tele2", true}, {"Telia-", true},
	{"Elisa", true}, {"DNA-WLAN", true}, {"Sagemcom", true}, {"Technicolor", true}, {"Thomson", true},
}

// ssidByFirst indexes ssidPrefixes by their first byte.
var ssidByFirst = func() (m [256][]int) {
	for i, e := range ssidPrefixes {
		m[e.p[0]] = append(m[e.p[0]], i)
	}
	return m
}()

// routerDefaultSSID reports a value shaped like a default SSID.
func routerDefaultSSID(v string) bool {
	if len(v) < 4 || len(v) > 32 {
		return false
	}
	for _, i := range ssidByFirst[v[0]] {
		e := ssidPrefixes[i]
		if !strings.HasPrefix(v, e.p) {
			continue
		}
		suf := strings.TrimLeft(v[len(e.p):], "-_ ")
		if !e.needSuffix {
			return true
		}
		if len(suf) < 2 || len(suf) > 16 || !hasDigit(suf) {
			continue
		}
		ok := true
		for i := 0; i < len(suf); i++ {
			c := suf[i]
			if !(isAlnum(c) || c == '-' || c == '_' || c == ' ') {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
