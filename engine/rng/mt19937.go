package rng

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// mt19937 is the 32-bit Mersenne Twister as PyTorch's CPU generator runs it:
// seeded with init_genrand on the low 32 bits of the seed, state regenerated
// lazily on the first draw.
type mt19937 struct {
	state [mtN]uint32
	next  int // index of the next state word to temper
	left  int // draws left before the state must be regenerated, plus one
}

func (m *mt19937) seed(seed uint64) {
	m.state[0] = uint32(seed)
	for i := 1; i < mtN; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.left = 1
	m.next = 0
}

func twist(u, v uint32) uint32 {
	y := (u&mtUpperMask | v&mtLowerMask) >> 1
	if v&1 != 0 {
		y ^= mtMatrixA
	}
	return y
}

func (m *mt19937) regenerate() {
	s := &m.state
	for i := 0; i < mtN-mtM; i++ {
		s[i] = s[i+mtM] ^ twist(s[i], s[i+1])
	}
	for i := mtN - mtM; i < mtN-1; i++ {
		s[i] = s[i+mtM-mtN] ^ twist(s[i], s[i+1])
	}
	s[mtN-1] = s[mtM-1] ^ twist(s[mtN-1], s[0])
	m.left = mtN
	m.next = 0
}

// uint32 returns the next tempered output.
func (m *mt19937) uint32() uint32 {
	m.left--
	if m.left == 0 {
		m.regenerate()
	}
	y := m.state[m.next]
	m.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}
