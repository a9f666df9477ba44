package kafka

import (
	"fmt"
	"strings"
)

// The metadata.version feature levels (Kafka's MetadataVersion, KRaft
// clusters) and the release that introduced each. The highest level a
// broker supports names its release line; the finalized level is what the
// cluster runs.
var metadataLevels = map[int16]string{
	7: "3.3-IV3", 8: "3.4-IV0", 9: "3.5-IV0", 10: "3.5-IV1", 11: "3.5-IV2", 12: "3.6-IV0", 13: "3.6-IV1",
	14: "3.6-IV2", 15: "3.7-IV0", 16: "3.7-IV1", 17: "3.7-IV2", 18: "3.7-IV3", 19: "3.7-IV4", 20: "3.8-IV0",
	21: "3.9-IV0", 22: "4.0-IV0", 23: "4.0-IV1", 24: "4.0-IV2", 25: "4.0-IV3", 26: "4.1-IV0", 27: "4.1-IV1",
	28: "4.2-IV0", 29: "4.2-IV1", 30: "4.3-IV0", 31: "4.4-IV0", 32: "4.4-IV1", 33: "4.4-IV2", 34: "4.5-IV0",
}

// release is the release line ("4.4") of the highest metadata.version
// level a broker supports; "" when unknown (ZooKeeper-era brokers list no
// such feature).
func release(supported int16) string {
	name, ok := metadataLevels[supported]
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(name, "-")
	return line
}

// metadataVersionName is a level's name, or "level N" when unknown.
func metadataVersionName(level int16) string {
	if name, ok := metadataLevels[level]; ok {
		return name
	}
	return fmt.Sprintf("level %d", level)
}
