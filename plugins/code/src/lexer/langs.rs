//! Language tables of the configurable lexer (kept out of rustfmt, which would put
//! every keyword on a line of its own).

use super::{Flavor, Spec};

pub(super) const NO: &[&str] = &[];

pub(super) const BASE: Spec = Spec {
    name: "",
    keywords: NO,
    types: NO,
    literals: NO,
    builtins: NO,
    line_comments: NO,
    block_comment: None,
    nested_comments: false,
    quotes: "\"'",
    multiline_quotes: "",
    raw_quotes: "",
    escape: b'\\',
    triple_quotes: false,
    string_prefixes: NO,
    case_insensitive: false,
    cap_types: false,
    annotations: false,
    sigils: "",
    preprocessor: false,
    regex_literals: false,
    ident_extra: "",
    flavor: Flavor::None,
};

/// Keywords after which an identifier is the name of a function being defined.
pub(super) const FN_DEFINERS: &[&str] = &[
    "fn", "def", "function", "func", "fun", "sub", "proc", "procedure",
];
/// Keywords after which an identifier is the name of a type being defined.
pub(super) const TYPE_DEFINERS: &[&str] = &[
    "class", "struct", "enum", "trait", "interface", "type", "union", "record", "protocol",
    "extension", "object", "typealias", "newtype", "data", "module", "typedef",
];

pub(super) const C_TYPES: &[&str] = &[
    "int", "char", "short", "long", "float", "double", "void", "signed", "unsigned", "bool",
    "_Bool", "size_t", "ssize_t", "ptrdiff_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t",
    "uint16_t", "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "wchar_t", "FILE",
];
pub(super) const C_KEYWORDS: &[&str] = &[
    "auto", "break", "case", "const", "continue", "default", "do", "else", "enum", "extern", "for",
    "goto", "if", "inline", "register", "restrict", "return", "sizeof", "static", "struct",
    "switch", "typedef", "union", "volatile", "while", "_Static_assert", "_Alignof",
];

pub static C: Spec = Spec {
    name: "c",
    keywords: C_KEYWORDS,
    types: C_TYPES,
    literals: &["NULL", "true", "false", "EOF", "stdin", "stdout", "stderr"],
    builtins: &[
        "printf", "fprintf", "sprintf", "snprintf", "malloc", "calloc", "realloc", "free",
        "memcpy", "memset", "strlen", "strcmp",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    string_prefixes: &["l", "u", "u8"],
    preprocessor: true,
    ..BASE
};

pub static CPP: Spec = Spec {
    name: "cpp",
    keywords: &[
        "alignas", "alignof", "and", "asm", "auto", "break", "case", "catch", "class", "const",
        "constexpr", "consteval", "constinit", "const_cast", "continue", "co_await", "co_return",
        "co_yield", "decltype", "default", "delete", "do", "dynamic_cast", "else", "enum",
        "explicit", "export", "extern", "final", "for", "friend", "goto", "if", "inline", "mutable",
        "namespace", "new", "noexcept", "not", "operator", "or", "override", "private", "protected",
        "public", "register", "reinterpret_cast", "requires", "return", "sizeof", "static",
        "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
        "throw", "try", "typedef", "typeid", "typename", "union", "using", "virtual", "volatile",
        "while", "concept", "module", "import", "@interface", "@implementation", "@end", "self",
        "super",
    ],
    types: &[
        "int", "char", "char8_t", "char16_t", "char32_t", "short", "long", "float", "double",
        "void", "signed", "unsigned", "bool", "size_t", "ssize_t", "int8_t", "int16_t", "int32_t",
        "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "wchar_t", "string", "vector",
        "map", "set", "unordered_map", "unordered_set", "shared_ptr", "unique_ptr", "weak_ptr",
        "optional", "array", "pair", "tuple", "id", "NSString",
    ],
    literals: &["true", "false", "nullptr", "NULL", "nil", "YES", "NO"],
    builtins: &[
        "std", "cout", "cin", "cerr", "endl", "printf", "malloc", "free", "move", "forward",
        "make_shared", "make_unique",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    string_prefixes: &["l", "u", "u8", "r", "lr", "ur", "u8r"],
    preprocessor: true,
    cap_types: true,
    flavor: Flavor::Cpp,
    ..BASE
};

pub static CSHARP: Spec = Spec {
    name: "csharp",
    keywords: &[
        "abstract", "as", "async", "await", "base", "break", "case", "catch", "checked", "class",
        "const", "continue", "default", "delegate", "do", "else", "enum", "event", "explicit",
        "extern", "finally", "fixed", "for", "foreach", "get", "goto", "if", "implicit", "in",
        "init", "interface", "internal", "is", "lock", "namespace", "new", "operator", "out",
        "override", "params", "partial", "private", "protected", "public", "readonly", "record",
        "ref", "return", "sealed", "set", "sizeof", "stackalloc", "static", "struct", "switch",
        "this", "throw", "try", "typeof", "unchecked", "unsafe", "using", "value", "var", "virtual",
        "volatile", "when", "where", "while", "yield", "with", "required",
    ],
    types: &[
        "bool", "byte", "char", "decimal", "double", "dynamic", "float", "int", "long", "nint",
        "nuint", "object", "sbyte", "short", "string", "uint", "ulong", "ushort", "void",
    ],
    literals: &["true", "false", "null"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    preprocessor: true,
    cap_types: true,
    flavor: Flavor::CSharp,
    ..BASE
};

pub static JAVA: Spec = Spec {
    name: "java",
    keywords: &[
        "abstract", "assert", "break", "case", "catch", "class", "const", "continue", "default",
        "do", "else", "enum", "exports", "extends", "final", "finally", "for", "goto", "if",
        "implements", "import", "instanceof", "interface", "module", "native", "new", "non-sealed",
        "package", "permits", "private", "protected", "public", "record", "requires", "return",
        "sealed", "static", "strictfp", "super", "switch", "synchronized", "this", "throw",
        "throws", "transient", "try", "var", "volatile", "while", "yield",
    ],
    types: &[
        "boolean", "byte", "char", "double", "float", "int", "long", "short", "void",
    ],
    literals: &["true", "false", "null"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    ..BASE
};

pub static GROOVY: Spec = Spec {
    name: "groovy",
    keywords: &[
        "abstract", "as", "assert", "break", "case", "catch", "class", "continue", "def", "default",
        "do", "else", "enum", "extends", "final", "finally", "for", "if", "implements", "import",
        "in", "instanceof", "interface", "new", "package", "private", "protected", "public",
        "return", "static", "super", "switch", "this", "throw", "throws", "trait", "try", "var",
        "while",
    ],
    types: &[
        "boolean", "byte", "char", "double", "float", "int", "long", "short", "void", "String",
    ],
    literals: &["true", "false", "null", "it"],
    builtins: &["println", "print", "each", "collect", "find", "findAll"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    ..BASE
};

pub static KOTLIN: Spec = Spec {
    name: "kotlin",
    keywords: &[
        "abstract", "actual", "annotation", "as", "break", "by", "catch", "class", "companion",
        "const", "constructor", "continue", "crossinline", "data", "do", "else", "enum", "expect",
        "external", "final", "finally", "for", "fun", "get", "if", "import", "in", "infix", "init",
        "inline", "inner", "interface", "internal", "is", "lateinit", "noinline", "object", "open",
        "operator", "out", "override", "package", "private", "protected", "public", "reified",
        "return", "sealed", "set", "super", "suspend", "tailrec", "this", "throw", "try",
        "typealias", "val", "value", "var", "vararg", "when", "where", "while",
    ],
    types: &[
        "Any", "Boolean", "Byte", "Char", "Double", "Float", "Int", "Long", "Nothing", "Short",
        "String", "Unit", "Array", "List", "Map", "Set", "MutableList", "MutableMap",
    ],
    literals: &["true", "false", "null", "it"],
    builtins: &[
        "println", "print", "listOf", "mapOf", "setOf", "mutableListOf", "mutableMapOf", "require",
        "check", "error", "lazy",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    nested_comments: true,
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    ..BASE
};

pub static SCALA: Spec = Spec {
    name: "scala",
    keywords: &[
        "abstract", "case", "catch", "class", "def", "do", "else", "enum", "export", "extends",
        "extension", "final", "finally", "for", "forSome", "given", "if", "implicit", "import",
        "lazy", "match", "new", "object", "override", "package", "private", "protected", "return",
        "sealed", "super", "then", "this", "throw", "trait", "try", "type", "using", "val", "var",
        "while", "with", "yield",
    ],
    types: &[
        "Any", "AnyRef", "AnyVal", "Boolean", "Byte", "Char", "Double", "Float", "Int", "Long",
        "Nothing", "Short", "String", "Unit", "Option", "Some", "List", "Seq", "Map",
    ],
    literals: &["true", "false", "null", "None", "Nil"],
    builtins: &["println", "print", "require", "assert"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    nested_comments: true,
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    string_prefixes: &["s", "f", "raw"],
    ..BASE
};

pub static SWIFT: Spec = Spec {
    name: "swift",
    keywords: &[
        "actor", "as", "associatedtype", "async", "await", "break", "case", "catch", "class",
        "continue", "convenience", "default", "defer", "deinit", "do", "dynamic", "else", "enum",
        "extension", "fallthrough", "fileprivate", "final", "for", "func", "get", "guard", "if",
        "import", "in", "indirect", "init", "inout", "internal", "is", "lazy", "let", "mutating",
        "nonisolated", "open", "operator", "optional", "override", "private", "protocol", "public",
        "repeat", "required", "rethrows", "return", "self", "Self", "set", "some", "static",
        "struct", "subscript", "super", "switch", "throw", "throws", "try", "typealias", "unowned",
        "var", "weak", "where", "while", "willSet", "didSet", "any",
    ],
    types: &[
        "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64",
        "Float", "Double", "Bool", "String", "Character", "Array", "Dictionary", "Set", "Optional",
        "Void", "Any", "AnyObject",
    ],
    literals: &["true", "false", "nil"],
    builtins: &[
        "print", "debugPrint", "fatalError", "precondition", "assert",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    nested_comments: true,
    quotes: "\"",
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    preprocessor: true,
    ..BASE
};

pub static DART: Spec = Spec {
    name: "dart",
    keywords: &[
        "abstract", "as", "assert", "async", "await", "break", "case", "catch", "class", "const",
        "continue", "covariant", "default", "deferred", "do", "dynamic", "else", "enum", "export",
        "extends", "extension", "external", "factory", "final", "finally", "for", "get", "if",
        "implements", "import", "in", "is", "late", "library", "mixin", "new", "on", "operator",
        "part", "required", "rethrow", "return", "set", "static", "super", "switch", "sync", "this",
        "throw", "try", "typedef", "var", "void", "while", "with", "yield",
    ],
    types: &[
        "int", "double", "num", "bool", "String", "List", "Map", "Set", "Future", "Stream",
        "Object",
    ],
    literals: &["true", "false", "null"],
    builtins: &["print"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    nested_comments: true,
    triple_quotes: true,
    cap_types: true,
    annotations: true,
    string_prefixes: &["r"],
    ..BASE
};

pub static RUST: Spec = Spec {
    name: "rust",
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "type",
        "union", "unsafe", "use", "where", "while", "yield", "macro_rules",
    ],
    types: &[
        "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
        "f32", "f64", "bool", "char", "str", "String", "Vec", "Option", "Result", "Box", "Rc",
        "Arc", "HashMap", "HashSet", "BTreeMap", "BTreeSet",
    ],
    literals: &["true", "false", "None", "Some", "Ok", "Err"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    nested_comments: true,
    quotes: "\"",
    multiline_quotes: "\"",
    cap_types: true,
    flavor: Flavor::Rust,
    ..BASE
};

pub static GO: Spec = Spec {
    name: "go",
    keywords: &[
        "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
        "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
        "return", "select", "struct", "switch", "type", "var",
    ],
    types: &[
        "bool", "byte", "complex64", "complex128", "error", "float32", "float64", "int", "int8",
        "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64",
        "uintptr", "any",
    ],
    literals: &["true", "false", "nil", "iota"],
    builtins: &[
        "append", "cap", "close", "copy", "delete", "len", "make", "new", "panic", "print",
        "println", "recover", "min", "max", "clear",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: "\"'`",
    multiline_quotes: "`",
    raw_quotes: "`",
    ..BASE
};

pub static PYTHON: Spec = Spec {
    name: "python",
    keywords: &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "match", "case", "nonlocal", "not", "or", "pass", "raise", "return", "try",
        "while", "with", "yield", "print",
    ],
    types: &[
        "int", "float", "str", "bytes", "bool", "list", "dict", "set", "tuple", "object", "complex",
        "frozenset", "bytearray",
    ],
    literals: &[
        "True", "False", "None", "self", "cls", "NotImplemented", "Ellipsis",
    ],
    builtins: &[
        "len", "range", "open", "isinstance", "enumerate", "zip", "map", "filter", "sorted",
        "super", "repr", "sum", "min", "max", "abs", "any", "all", "iter", "next", "getattr",
        "setattr", "hasattr", "type",
    ],
    line_comments: &["#"],
    triple_quotes: true,
    string_prefixes: &["r", "b", "f", "u", "rb", "br", "fr", "rf"],
    cap_types: true,
    annotations: true,
    flavor: Flavor::Python,
    ..BASE
};

pub static RUBY: Spec = Spec {
    name: "ruby",
    keywords: &[
        "alias", "and", "begin", "break", "case", "class", "def", "defined?", "do", "else", "elsif",
        "end", "ensure", "for", "if", "in", "module", "next", "not", "or", "redo", "rescue",
        "retry", "return", "then", "undef", "unless", "until", "when", "while", "yield", "require",
        "require_relative", "include", "extend", "attr_accessor", "attr_reader", "attr_writer",
        "private", "protected", "public", "raise", "lambda", "proc",
    ],
    literals: &[
        "true", "false", "nil", "self", "super", "__FILE__", "__LINE__",
    ],
    builtins: &[
        "puts", "print", "p", "pp", "gets", "each", "map", "select", "reject", "new",
    ],
    line_comments: &["#"],
    quotes: "\"'`",
    multiline_quotes: "\"'`",
    cap_types: true,
    sigils: "@$",
    regex_literals: true,
    ident_extra: "",
    flavor: Flavor::Ruby,
    ..BASE
};

pub static PHP: Spec = Spec {
    name: "php",
    keywords: &[
        "abstract", "and", "array", "as", "break", "callable", "case", "catch", "class", "clone",
        "const", "continue", "declare", "default", "do", "echo", "else", "elseif", "empty",
        "enddeclare", "endfor", "endforeach", "endif", "endswitch", "endwhile", "enum", "extends",
        "final", "finally", "fn", "for", "foreach", "function", "global", "goto", "if",
        "implements", "include", "include_once", "instanceof", "insteadof", "interface", "isset",
        "list", "match", "namespace", "new", "or", "print", "private", "protected", "public",
        "readonly", "require", "require_once", "return", "static", "switch", "throw", "trait",
        "try", "unset", "use", "var", "while", "xor", "yield",
    ],
    types: &[
        "int", "float", "bool", "string", "void", "mixed", "object", "iterable", "never", "self",
        "parent",
    ],
    literals: &[
        "true", "false", "null", "__CLASS__", "__DIR__", "__FILE__", "__FUNCTION__", "__LINE__",
        "__METHOD__", "__NAMESPACE__",
    ],
    line_comments: &["//", "#"],
    block_comment: Some(("/*", "*/")),
    multiline_quotes: "\"'",
    case_insensitive: true,
    cap_types: true,
    sigils: "$",
    flavor: Flavor::Php,
    ..BASE
};

pub(super) const JS_KEYWORDS: &[&str] = &[
    "async", "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "export", "extends", "finally", "for", "from", "function", "if",
    "import", "in", "instanceof", "let", "new", "of", "return", "static", "super", "switch", "this",
    "throw", "try", "typeof", "var", "void", "while", "with", "yield",
];

pub static JAVASCRIPT: Spec = Spec {
    name: "javascript",
    keywords: JS_KEYWORDS,
    literals: &["true", "false", "null", "undefined", "NaN", "Infinity"],
    builtins: &[
        "console", "window", "document", "require", "module", "exports", "JSON", "Math", "Object",
        "Array", "Promise", "setTimeout", "setInterval", "fetch",
    ],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: "\"'`",
    multiline_quotes: "`",
    cap_types: true,
    annotations: true,
    sigils: "",
    regex_literals: true,
    ident_extra: "$",
    flavor: Flavor::Js,
    ..BASE
};

pub static TYPESCRIPT: Spec = Spec {
    name: "typescript",
    keywords: &[
        "abstract", "as", "asserts", "async", "await", "break", "case", "catch", "class", "const",
        "constructor", "continue", "debugger", "declare", "default", "delete", "do", "else", "enum",
        "export", "extends", "finally", "for", "from", "function", "get", "if", "implements",
        "import", "in", "infer", "instanceof", "interface", "is", "keyof", "let", "module",
        "namespace", "new", "of", "override", "private", "protected", "public", "readonly",
        "return", "satisfies", "set", "static", "super", "switch", "this", "throw", "try", "type",
        "typeof", "var", "void", "while", "with", "yield",
    ],
    types: &[
        "string", "number", "boolean", "any", "unknown", "never", "object", "symbol", "bigint",
        "void",
    ],
    literals: &["true", "false", "null", "undefined", "NaN", "Infinity"],
    builtins: &[
        "console", "window", "document", "require", "JSON", "Math", "Object", "Array", "Promise",
        "Record", "Partial", "Readonly", "Pick", "Omit",
    ],
    ..JAVASCRIPT
};

pub static JSON: Spec = Spec {
    name: "json",
    literals: &["true", "false", "null"],
    line_comments: &["//"],
    block_comment: Some(("/*", "*/")),
    flavor: Flavor::Json,
    ..BASE
};

pub static TOML: Spec = Spec {
    name: "toml",
    literals: &["true", "false", "inf", "nan"],
    line_comments: &["#"],
    multiline_quotes: "",
    raw_quotes: "'",
    triple_quotes: true,
    ident_extra: "-",
    flavor: Flavor::Toml,
    ..BASE
};

pub static SQL: Spec = Spec {
    name: "sql",
    keywords: &[
        "add", "all", "alter", "and", "any", "as", "asc", "begin", "between", "by", "cascade",
        "case", "check", "column", "commit", "constraint", "create", "cross", "database", "default",
        "delete", "desc", "distinct", "drop", "else", "end", "except", "exists", "explain",
        "foreign", "from", "full", "function", "grant", "group", "having", "if", "in", "index",
        "inner", "insert", "intersect", "into", "is", "join", "key", "left", "like", "ilike",
        "limit", "not", "offset", "on", "or", "order", "outer", "over", "partition", "primary",
        "procedure", "references", "returning", "returns", "revoke", "right", "rollback", "select",
        "set", "table", "then", "to", "transaction", "trigger", "truncate", "union", "unique",
        "update", "using", "values", "view", "when", "where", "with", "recursive", "lateral",
        "declare", "exec", "execute", "language", "replace", "temporary", "temp", "materialized",
        "conflict", "do", "nothing", "schema", "sequence", "fetch", "first", "next", "rows", "only",
        "window", "filter", "within",
    ],
    types: &[
        "bigint", "binary", "bit", "blob", "boolean", "bool", "bytea", "char", "character", "clob",
        "date", "datetime", "decimal", "double", "float", "int", "integer", "interval", "json",
        "jsonb", "money", "nchar", "number", "numeric", "nvarchar", "real", "serial", "bigserial",
        "smallint", "text", "time", "timestamp", "timestamptz", "tinyint", "uuid", "varbinary",
        "varchar", "varchar2", "precision", "varying", "zone",
    ],
    literals: &[
        "null", "true", "false", "current_date", "current_time", "current_timestamp",
        "current_user",
    ],
    builtins: &[
        "count", "sum", "avg", "min", "max", "coalesce", "nullif", "cast", "now", "lower", "upper",
        "substring", "trim", "length", "round", "row_number", "rank", "dense_rank", "string_agg",
        "array_agg", "extract",
    ],
    line_comments: &["--"],
    block_comment: Some(("/*", "*/")),
    quotes: "'\"`",
    multiline_quotes: "'\"`",
    escape: 0,
    case_insensitive: true,
    sigils: "@$",
    flavor: Flavor::Sql,
    ..BASE
};

pub static SHELL: Spec = Spec {
    name: "bash",
    keywords: &[
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
        "in", "function", "select", "return", "local", "export", "declare", "readonly", "unset",
        "break", "continue", "time", "shift", "trap", "source", "exit",
    ],
    literals: &["true", "false"],
    builtins: &[
        "echo", "printf", "cd", "pwd", "read", "test", "eval", "exec", "set", "alias", "wait",
        "kill", "getopts", "umask", "type", "command", "let", "sudo", "ls", "cat", "grep", "sed",
        "awk", "find", "xargs", "curl", "wget", "git", "docker", "kubectl", "mkdir", "rm", "cp",
        "mv", "chmod", "chown", "tar", "ssh", "scp", "apt", "apt-get", "yum", "npm", "pip", "make",
        "cargo", "systemctl", "head", "tail", "sort", "uniq", "wc", "tr", "cut", "touch", "ln",
        "env", "sleep", "tee", "diff", "python", "java", "mvn",
    ],
    line_comments: &["#"],
    quotes: "\"'`",
    multiline_quotes: "\"'`",
    raw_quotes: "'",
    sigils: "$",
    ident_extra: "-",
    flavor: Flavor::Shell,
    ..BASE
};

pub static POWERSHELL: Spec = Spec {
    name: "powershell",
    keywords: &[
        "begin", "break", "catch", "class", "continue", "data", "define", "do", "dynamicparam",
        "else", "elseif", "end", "enum", "exit", "filter", "finally", "for", "foreach", "from",
        "function", "hidden", "if", "in", "param", "process", "return", "static", "switch", "throw",
        "trap", "try", "until", "using", "var", "while", "workflow",
    ],
    literals: &["$true", "$false", "$null"],
    line_comments: &["#"],
    block_comment: Some(("<#", "#>")),
    multiline_quotes: "\"'",
    escape: b'`',
    case_insensitive: true,
    sigils: "$",
    ident_extra: "-",
    flavor: Flavor::PowerShell,
    ..BASE
};

pub static PERL: Spec = Spec {
    name: "perl",
    keywords: &[
        "my", "our", "local", "sub", "if", "elsif", "else", "unless", "while", "until", "for",
        "foreach", "do", "last", "next", "redo", "return", "use", "no", "require", "package", "and",
        "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "cmp", "x", "qw", "BEGIN", "END",
        "defined", "undef", "wantarray", "bless", "ref", "die", "eval",
    ],
    literals: &[
        "__FILE__", "__LINE__", "__PACKAGE__", "__DATA__", "__END__", "STDIN", "STDOUT", "STDERR",
    ],
    builtins: &[
        "print", "printf", "say", "open", "close", "push", "pop", "shift", "unshift", "split",
        "join", "keys", "values", "each", "exists", "delete", "chomp", "length", "substr",
        "sprintf", "map", "grep", "sort", "reverse", "warn", "scalar",
    ],
    line_comments: &["#"],
    quotes: "\"'`",
    multiline_quotes: "\"'`",
    sigils: "$@%",
    regex_literals: true,
    flavor: Flavor::Perl,
    ..BASE
};

pub static LUA: Spec = Spec {
    name: "lua",
    keywords: &[
        "and", "break", "do", "else", "elseif", "end", "for", "function", "goto", "if", "in",
        "local", "not", "or", "repeat", "return", "then", "until", "while",
    ],
    literals: &["true", "false", "nil", "self"],
    builtins: &[
        "print", "pairs", "ipairs", "require", "type", "tostring", "tonumber", "setmetatable",
        "getmetatable", "pcall", "error", "assert", "select", "next", "string", "table", "math",
        "os", "io",
    ],
    line_comments: &["--"],
    flavor: Flavor::Lua,
    ..BASE
};

pub static HASKELL: Spec = Spec {
    name: "haskell",
    keywords: &[
        "case", "class", "data", "default", "deriving", "do", "else", "family", "forall", "foreign",
        "if", "import", "in", "infix", "infixl", "infixr", "instance", "let", "mdo", "module",
        "newtype", "of", "qualified", "rec", "then", "type", "where", "as", "hiding",
    ],
    literals: &[
        "True", "False", "Nothing", "Just", "Left", "Right", "otherwise", "undefined",
    ],
    builtins: &[
        "map", "filter", "foldr", "foldl", "putStrLn", "print", "show", "read", "return", "pure",
        "fmap", "mapM_", "length", "head", "tail", "zip", "concat", "error",
    ],
    line_comments: &["--"],
    block_comment: Some(("{-", "-}")),
    nested_comments: true,
    quotes: "\"",
    cap_types: true,
    ident_extra: "'",
    flavor: Flavor::Haskell,
    ..BASE
};

/// PowerShell's comparison and logical operators (`-eq` …).
pub(super) const PS_OPERATORS: &[&str] = &[
    "eq", "ne", "gt", "ge", "lt", "le", "like", "notlike", "match", "notmatch", "contains",
    "notcontains", "in", "notin", "replace", "split", "join", "and", "or", "xor", "not", "is",
    "isnot", "as", "f", "band", "bor", "bxor", "bnot", "shl", "shr", "ceq", "cne", "ieq", "ine",
    "clike", "cmatch", "imatch",
];

