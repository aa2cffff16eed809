package antivirus

// Parse is parse, for the table of clamd replies.
var Parse = parse
