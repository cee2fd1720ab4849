package difftest

// exception records where an emulator departs from DynamoDB's documented
// behaviour for the steps it lists (docs/testing-emulator-exceptions.md
// lists the same, by the same names). The engine has none.
type exception struct {
	name   string
	target string
	steps  []string
	// status is what the emulator answers instead (0: not always the same).
	status int
	reason string
	doc    string // the documentation (or DynamoDB-verified test) it departs from
}

const (
	docOperators   = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html"
	docUpdate      = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html"
	docProjection  = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html"
	docNames       = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html"
	docDataTypes   = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html"
	docConstraints = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"
	docUpdateItem  = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html"
	docScan        = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html"
	docItemSize    = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html"
	// scylladb's alternator tests, run against DynamoDB itself, for what
	// the guide leaves open.
	scyllaConditions = "https://github.com/scylladb/scylladb/blob/master/test/alternator/test_condition_expression.py"
	extendDBSize     = "https://github.com/ExtendDB/extenddb/pull/67"
)

var exceptions = []exception{
	// moto_server 5.2
	{name: "moto-invalid-expression-crashes", target: targetMoto, status: 500,
		steps: []string{"in-empty", "exists-of-value", "type-path-argument", "size-of-number-value", "size-alone", "unknown-function",
			"function-case", "function-arity", "update-function-in-condition", "bare-path", "double-equals", "trailing-and",
			"reserved-word-nested", "undefined-value-in-condition", "undefined-name-in-condition", "create-condition-empty",
			"filter-undefined-value", "filter-between-reversed", "between-mixed-constants", "lt-constant-list"},
		reason: "an invalid condition or filter makes moto's server fail with HTTP 500 instead of answering a ValidationException",
		doc:    docOperators},
	{name: "moto-comparison-crashes", target: targetMoto, status: 500,
		steps: []string{"lt-number-vs-string", "lt-stored-list", "between-other-type", "filter-big-gt", "filter-big-ge",
			"filter-string-vs-number", "size-number", "not-size-number", "size-bool", "size-missing"},
		reason: "comparing values of different types, or size() of a number, boolean or missing attribute, fails with HTTP 500 where DynamoDB evaluates to false",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Comparators"},
	{name: "moto-not-not-crashes", target: targetMoto, status: 500, steps: []string{"not-not"},
		reason: "NOT NOT condition (NOT applies to any condition) fails with HTTP 500",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Syntax"},
	{name: "moto-static-checks-missing", target: targetMoto,
		steps:  []string{"between-reversed-constants", "type-unknown", "begins-with-number-operand", "ge-constant-bool", "path-33-levels"},
		reason: "constant operands DynamoDB refuses before evaluating (BETWEEN bounds out of order, an unknown attribute_type type, a number as begins_with's substring, a boolean in an ordering comparison, a path of 33 levels) are evaluated instead",
		doc:    scyllaConditions},
	{name: "moto-number-precision", target: targetMoto,
		steps:  []string{"arith-38-digits", "arith-overflow-39-digits", "value-39-digits", "value-out-of-range", "read-xn"},
		reason: "numbers are Python decimals of 28 digits: 38-digit sums are rounded, a 39-digit or out-of-range number is stored, an overflowing sum fails with HTTP 500 (read-xn shows the stored result)",
		doc:    docConstraints + "#limits-data-types-numbers"},
	{name: "moto-placeholder-checks", target: targetMoto, steps: []string{"read-projection-undefined-name", "filter-unused-value", "empty-names"},
		reason: "an undefined #name in a projection, an unused :value of a filter and empty ExpressionAttributeNames are accepted",
		doc:    docNames},
	{name: "moto-projection-list-indexes", target: targetMoto, status: 200, steps: []string{"read-projection-list-index-order"},
		reason: "a projection of two elements of one list (tags[2], tags[0]) returns only one of them",
		doc:    docProjection},
	{name: "moto-updated-returns-whole-list", target: targetMoto, status: 200, steps: []string{"rv-update-updated_old", "rv-update-updated_new"},
		reason: "UPDATED_OLD and UPDATED_NEW of SET n.c[1] return the whole list n.c, not only the updated element",
		doc:    docUpdateItem + "#DDB-UpdateItem-request-ReturnValues"},
	{name: "moto-missing-attributes-equal", target: targetMoto, status: 200, steps: []string{"two-missing-eq"},
		reason: "two missing attributes compare equal; in DynamoDB a missing attribute equals nothing",
		doc:    scyllaConditions},
	{name: "moto-size-code-points", target: targetMoto, status: 409, steps: []string{"size-string-utf16"},
		reason: "size() of a string counts code points (é𝄞 is 2); DynamoDB counts UTF-16 code units (3)",
		doc:    extendDBSize},
	{name: "moto-size-of-missing-refused", target: targetMoto, status: 400, steps: []string{"filter-size-list"},
		reason: "a filter with size() of an attribute some items lack is refused as invalid instead of being false for them",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Functions"},
	{name: "moto-start-key-not-validated", target: targetMoto,
		steps:  []string{"page-start-key-number", "page-start-key-extra-attribute", "page-start-key-other-attribute", "page-start-key-empty-id"},
		reason: "an ExclusiveStartKey that is not exactly a key of the table is used (or fails with HTTP 500) instead of being refused",
		doc:    docScan + "#DDB-Scan-request-ExclusiveStartKey"},
	{name: "moto-key-length-on-read", target: targetMoto, status: 404, steps: []string{"key-2049-bytes-read"},
		reason: "a read of a 2049-byte key is not refused",
		doc:    docConstraints + "#limits-partition-key-length"},
	{name: "moto-nesting-unlimited", target: targetMoto, status: 200, steps: []string{"nesting-33", "nesting-33-by-update"},
		reason: "items nested 33 levels deep are stored",
		doc:    docConstraints + "#limits-attributes-nested-depth"},
	{name: "moto-item-size-formula", target: targetMoto, status: 413, steps: []string{"size-update-to-400k"},
		reason: "an update to exactly 400 KB (names plus values) is refused: moto counts an item's size differently",
		doc:    docItemSize},

	// dynalite 4
	{name: "dynalite-remove-list-indexes-shift", target: targetDynalite, status: 200,
		steps:  []string{"remove-list-elements", "list-append-if-not-exists", "remove-missing-paths", "read-x", "read-x-projection-paths"},
		reason: "REMOVE tags[0], tags[2] removes the elements one after the other (the second index counts in the shortened list); the later steps show the list it left",
		doc:    docUpdate + "#Expressions.UpdateExpressions.REMOVE.RemovingListElements"},
	{name: "dynalite-number-precision", target: targetDynalite, status: 200, steps: []string{"arith-overflow-39-digits", "read-xn"},
		reason: "a sum of 51 significant digits is stored (read-xn shows it)",
		doc:    docConstraints + "#limits-data-types-numbers"},
	{name: "dynalite-missing-attributes-equal", target: targetDynalite, status: 200, steps: []string{"two-missing-eq"},
		reason: "two missing attributes compare equal; in DynamoDB a missing attribute equals nothing",
		doc:    scyllaConditions},
	{name: "dynalite-static-checks-missing", target: targetDynalite, status: 409, steps: []string{"lt-constant-list", "ge-constant-bool", "path-33-levels"},
		reason: "a list or boolean constant in an ordering comparison and a path of 33 levels are evaluated instead of refused",
		doc:    scyllaConditions},
	{name: "dynalite-document-equality", target: targetDynalite, status: 409,
		steps:  []string{"eq-list-element", "eq-map-element", "eq-list-whole", "contains-list-list"},
		reason: "lists and maps are compared by reference, so equal documents are never equal (and contains() never finds one in a list)",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Comparators"},
	{name: "dynalite-utf16-string-order", target: targetDynalite, status: 409, steps: []string{"utf8-order", "utf8-order-paths"},
		reason: "strings are ordered by UTF-16 code units, so ～ (U+FF5E) sorts after 😀 (U+1F600); DynamoDB orders by UTF-8 bytes",
		doc:    docDataTypes + "#HowItWorks.DataTypes.String"},
	{name: "dynalite-not-not", target: targetDynalite, status: 400, steps: []string{"not-not"},
		reason: "NOT NOT condition is refused as a syntax error",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Syntax"},
	{name: "dynalite-size-empty-string", target: targetDynalite, status: 409, steps: []string{"size-empty-string"},
		reason: "size() of the empty string is treated as undefined instead of 0",
		doc:    docOperators + "#Expressions.OperatorsAndFunctions.Functions"},
	{name: "dynalite-key-length-in-characters", target: targetDynalite, status: 200, steps: []string{"key-2050-bytes-utf8"},
		reason: "a partition key's length is counted in UTF-16 code units, so 1025 é (2050 bytes) are accepted",
		doc:    docConstraints + "#limits-partition-key-length"},
	{name: "dynalite-nesting-unlimited", target: targetDynalite, status: 200, steps: []string{"nesting-33", "nesting-33-by-update"},
		reason: "items nested 33 levels deep are stored",
		doc:    docConstraints + "#limits-attributes-nested-depth"},
}
