package s3

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
)

// S3 REST API XML bodies (namespace http://s3.amazonaws.com/doc/2006-03-01/).

// s3Namespace is the XML namespace of S3 answers.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// listAllMyBuckets is GET / (ListBuckets).
type listAllMyBuckets struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Owner   struct {
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName"`
	} `xml:"Owner"`
	Buckets []struct {
		Name string `xml:"Name"`
	} `xml:"Buckets>Bucket"`
}

// listBucketV2 is GET /<bucket>?list-type=2 (ListObjectsV2).
type listBucketV2 struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string   `xml:"Name"`
	KeyCount              *int64   `xml:"KeyCount"`
	MaxKeys               int64    `xml:"MaxKeys"`
	IsTruncated           bool     `xml:"IsTruncated"`
	NextContinuationToken string   `xml:"NextContinuationToken"`
	Contents              []object `xml:"Contents"`
}

// object is one key of a listing.
type object struct {
	Key          string `xml:"Key"`
	Size         int64  `xml:"Size"`
	LastModified string `xml:"LastModified"`
}

// s3Error is an S3 error body.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	Resource  string   `xml:"Resource"`
}

// rootElement returns the name of the first XML element of b, and its
// namespace; it reads at most the first element.
func rootElement(b []byte) (name, space string, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	for range 16 {
		tok, err := d.Token()
		if err != nil {
			return "", "", false
		}
		if se, isStart := tok.(xml.StartElement); isStart {
			return se.Name.Local, se.Name.Space, true
		}
	}
	return "", "", false
}

// decodeXML decodes b into v, refusing documents without a matching root.
func decodeXML(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("xml: %w", err)
	}
	return nil
}

// parseBuckets decodes a ListAllMyBucketsResult.
func parseBuckets(b []byte) (*listAllMyBuckets, error) {
	var r listAllMyBuckets
	if err := decodeXML(b, &r); err != nil {
		return nil, fmt.Errorf("ListAllMyBucketsResult: %w", err)
	}
	return &r, nil
}

// parseListing decodes a ListBucketResult (V2).
func parseListing(b []byte) (*listBucketV2, error) {
	var r listBucketV2
	if err := decodeXML(b, &r); err != nil {
		return nil, fmt.Errorf("ListBucketResult: %w", err)
	}
	return &r, nil
}

// parseError decodes an S3 <Error>; ok is false for anything else.
func parseError(b []byte) (*s3Error, bool) {
	if name, _, ok := rootElement(b); !ok || name != "Error" {
		return nil, false
	}
	var e s3Error
	if decodeXML(b, &e) != nil || e.Code == "" {
		return nil, false
	}
	return &e, true
}

// s3ErrorCodes are error codes only S3-compatible services answer with;
// they tell an S3 <Error> from another service's XML error.
var s3ErrorCodes = map[string]bool{
	"AccessDenied": true, "AllAccessDisabled": true, "NoSuchBucket": true, "NoSuchKey": true,
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidBucketName": true,
	"AuthorizationHeaderMalformed": true, "InvalidRequest": true, "MissingSecurityHeader": true,
	"PermanentRedirect": true, "NotImplemented": true, "MethodNotAllowed": true, "InvalidArgument": true,
	"AccountProblem": true, "InvalidSecurity": true, "ExpiredToken": true, "InvalidToken": true,
}

// isAccessDenied tells whether an error code means "credentials needed".
func isAccessDenied(code string) bool {
	switch code {
	case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
		"MissingSecurityHeader", "InvalidSecurity", "ExpiredToken", "InvalidToken", "AccountProblem":
		return true
	}
	return false
}

// productOf names the implementation from the Server header:
// "SeaweedFS 30GB 4.53", "MinIO", "AmazonS3", "Ceph Object Gateway ...".
func productOf(server string) (product, version string) {
	fields := strings.Fields(server)
	if len(fields) == 0 {
		return "s3", ""
	}
	lower := strings.ToLower(server)
	switch {
	case strings.HasPrefix(lower, "seaweedfs"):
		product = "seaweedfs"
	case strings.HasPrefix(lower, "minio"):
		product = "minio"
	case strings.HasPrefix(lower, "amazons3"):
		return "amazon-s3", ""
	case strings.Contains(lower, "ceph"):
		product = "ceph-rgw"
	case strings.Contains(lower, "garage"):
		product = "garage"
	default:
		return "s3", ""
	}
	// The version is the last token that starts with a digit.
	for i := len(fields) - 1; i > 0; i-- {
		f := strings.TrimPrefix(fields[i], "v")
		if f != "" && f[0] >= '0' && f[0] <= '9' && strings.Contains(f, ".") {
			return product, f
		}
	}
	if name, ver, ok := strings.Cut(fields[0], "/"); ok && name != "" {
		return product, strings.TrimPrefix(ver, "v")
	}
	return product, ""
}
