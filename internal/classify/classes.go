package classify

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

var classNames = [numClasses]string{
	cEmail:         ClassEmail,
	cPersonName:    ClassPersonName,
	cUsername:      ClassUsername,
	cPassword:      ClassPassword,
	cPasswordHash:  ClassPasswordHash,
	cAuthToken:     ClassAuthToken,
	cAPIKey:        ClassAPIKey,
	cWifiSSID:      ClassWifiSSID,
	cDeviceID:      ClassDeviceID,
	cDeviceModel:   ClassDeviceModel,
	cMAC:           ClassMACAddress,
	cIP:            ClassIPAddress,
	cPhone:         ClassPhone,
	cPostalAddress: ClassPostalAddress,
	cGeo:           ClassGeoLocation,
	cDOB:           ClassDateOfBirth,
	cCard:          ClassPaymentCard,
	cBank:          ClassBankAccount,
	cNationalID:    ClassNationalID,
}

// Classes lists the class vocabulary the engine reports.
func Classes() []string { return append([]string(nil), classNames[:]...) }

func (c class) String() string { return classNames[c] }

// identifying classes get a distinct-subjects estimate: one value stands for
// one person or device.
var identifying = [numClasses]bool{
	cEmail: true, cUsername: true, cDeviceID: true, cPhone: true, cMAC: true,
	cPersonName: true, cCard: true, cNationalID: true,
}

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
