// Package docs holds no product code. Its tests keep the documentation
// honest: every relative link of README.md and docs/ resolves, anchors
// included; README stays the front page (short, with the table of contents
// of docs/); and the guides a new user follows (README's Quick start,
// docs/local-cloud.md's by-hand guide) run as written from a copy of the
// repository, each command's exit status and output checked against what
// its comment says.
package docs
