package config

import "strings"

// Nearest returns the declared variable closest to name (a misspelling):
// the one at the smallest edit distance, if that distance is small for
// the names' length, or one that name extends or cuts by a suffix.
func Nearest(name string) (string, bool) {
	best, bestD := "", 1<<30
	for _, v := range Vars {
		d := distance(name, v.Name)
		if strings.HasPrefix(v.Name, name) || strings.HasPrefix(name, v.Name) {
			d = min(d, 2)
		}
		if d < bestD {
			best, bestD = v.Name, d
		}
	}
	return best, bestD <= max(2, len(best)/4)
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
