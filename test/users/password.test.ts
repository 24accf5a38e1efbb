import bcrypt from 'bcrypt';
import { createPasswordHasher, MAX_PASSWORD_BYTES, normalisePassword, passwordProblem, uncheckablePasswordProblem } from '../../src/users/password';

const NFC = 'Crème-brûlée-42'.normalize('NFC');
const NFD = NFC.normalize('NFD');

describe('password normalisation (NFKC, NIST SP 800-63B §5.1.1.2)', () => {
  it('gives one spelling to canonically equivalent and compatibility forms', () => {
    expect(NFD).not.toBe(NFC);
    expect(normalisePassword(NFD)).toBe(NFC);
    expect(normalisePassword('ﬁnal-password')).toBe('final-password');
    expect(normalisePassword('ｐａｓｓ１２３４')).toBe('pass1234');
    expect(normalisePassword('\u212B-ohm-\u2126')).toBe('\u00C5-ohm-\u03A9');
  });

  it('measures length and bytes on the normalised form', () => {
    const nfd = 'é'.repeat(30).normalize('NFD');
    expect(Buffer.byteLength(nfd)).toBe(90);
    expect(passwordProblem(nfd)).toBeUndefined();
    expect(uncheckablePasswordProblem(nfd)).toBeUndefined();
    // Seven ligature characters are fourteen letters once normalised: long enough.
    expect(passwordProblem('ﬁﬁﬁﬁﬁﬁﬁ')).toBeUndefined();
    // U+FDFA expands to 18 code points (33 bytes): three are more than bcrypt reads.
    expect(Buffer.byteLength('\uFDFA'.repeat(3))).toBe(9);
    expect(passwordProblem('\uFDFA'.repeat(3))).toContain(`${MAX_PASSWORD_BYTES} bytes`);
    expect(uncheckablePasswordProblem('\uFDFA'.repeat(3))).toContain(`${MAX_PASSWORD_BYTES} bytes`);
    expect(passwordProblem('é'.repeat(37))).toContain(`${MAX_PASSWORD_BYTES} bytes`);
  });
});

describe('createPasswordHasher', () => {
  const hasher = createPasswordHasher(4);

  it('hashes the normalised form, so every form of the text matches', async () => {
    const hash = await hasher.hash(NFD);
    expect(await bcrypt.compare(NFC, hash)).toBe(true);
    await expect(hasher.verify(NFC, hash)).resolves.toBe('match');
    await expect(hasher.verify(NFD, hash)).resolves.toBe('match');
    await expect(hasher.verify('Creme-brulee-42', hash)).resolves.toBe('mismatch');
  });

  it('recognises a hash of the raw text made before normalisation as a legacy match', async () => {
    const legacy = await bcrypt.hash(NFD, 4);
    await expect(hasher.verify(NFD, legacy)).resolves.toBe('legacy_match');
    // The other form was never hashed: nothing can tell it was the same text.
    await expect(hasher.verify(NFC, legacy)).resolves.toBe('mismatch');
    const fullWidth = await bcrypt.hash('ｐａｓｓ１２３４', 4);
    await expect(hasher.verify('ｐａｓｓ１２３４', fullWidth)).resolves.toBe('legacy_match');
  });

  it('runs the same comparisons for an unknown account as for a known one (invariant 9)', async () => {
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      await expect(hasher.verify(NFD, undefined)).resolves.toBe('mismatch');
      expect(compare).toHaveBeenCalledTimes(2);
      compare.mockClear();
      await expect(hasher.verify(NFD, await bcrypt.hash('something else', 4))).resolves.toBe('mismatch');
      expect(compare).toHaveBeenCalledTimes(2);
      compare.mockClear();
      await expect(hasher.verify(NFC, undefined)).resolves.toBe('mismatch');
      expect(compare).toHaveBeenCalledTimes(1);
    } finally {
      compare.mockRestore();
    }
  });
});
