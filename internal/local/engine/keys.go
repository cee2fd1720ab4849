package engine

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbops/ddbops/internal/wire"
)

// KeyAttribute is the table's partition key, a string.
const KeyAttribute = wire.KeyAttribute

// maxKeyBytes is DynamoDB's limit on a partition key: 1 to 2048 bytes of
// UTF-8 (docs/engine.md#keys).
const maxKeyBytes = 2048

const (
	msgKeySchema = "The provided key element does not match the schema"
	msgKeyEmpty  = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: " + KeyAttribute
	// DynamoDB's own wording, "of2048" included.
	msgKeyTooLong = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
)

// keyValue checks the key attribute's value: a string of 1 to 2048 bytes.
func keyValue(v types.AttributeValue, prefix string) (string, error) {
	s, ok := v.(*types.AttributeValueMemberS)
	switch {
	case !ok:
		return "", validation(prefix + msgKeySchema)
	case s.Value == "":
		return "", validation(prefix + msgKeyEmpty)
	case len(s.Value) > maxKeyBytes:
		return "", validation(prefix + msgKeyTooLong)
	}
	return s.Value, nil
}

// requestKey validates a request's Key, which must hold exactly the key
// attribute, and returns the key.
func requestKey(key map[string]types.AttributeValue) (string, error) {
	return exactKey(key, "")
}

// startKey validates a Scan's ExclusiveStartKey, which must be exactly a
// key of the table (the LastEvaluatedKey of an earlier page).
func startKey(key map[string]types.AttributeValue) (string, error) {
	return exactKey(key, "The provided starting key is invalid: ")
}

func exactKey(key map[string]types.AttributeValue, prefix string) (string, error) {
	v, ok := key[KeyAttribute]
	if !ok || len(key) != 1 {
		return "", validation(prefix + msgKeySchema)
	}
	return keyValue(v, prefix)
}

// itemKey returns the key of an item to be put.
func itemKey(item map[string]types.AttributeValue) (string, error) {
	v, ok := item[KeyAttribute]
	if !ok {
		return "", validation("One or more parameter values were invalid: Missing the key " + KeyAttribute + " in the item")
	}
	if k := kindOf(v); k != kindS {
		return "", validationf("One or more parameter values were invalid: Type mismatch for key %s expected: S actual: %s", KeyAttribute, k)
	}
	return keyValue(v, "")
}

// keyItem is the item of a key: what UpdateItem starts from when the key
// has no item yet, and a Scan's LastEvaluatedKey.
func keyItem(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: id}}
}
