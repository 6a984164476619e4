// Package stormwatch holds the domain of the status page service: the values
// that every other package speaks about (workspaces, components, incidents,
// maintenance windows, nodes, ...), their allowed states, and the validation
// rules that do not need a database. It does no I/O.
//
// The data flow of DESIGN.md lives in the internal packages around it:
// capture → detect → agent → (HTTP api) → rules → incident → notify → web.
package stormwatch
