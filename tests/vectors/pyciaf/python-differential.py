"""Writes python-differential.json: run with CPython 3.11.7 in this directory."""
import json, random, struct, hashlib, hmac
random.seed(7)
def rfloat():
    r=random.random()
    if r<0.3: return struct.unpack('<d', struct.pack('<Q', random.getrandbits(64)))[0]
    if r<0.5: return random.choice([0.0,-0.0,1e16,1e15,9999999999999998.0,1e-4,1e-5,0.1,123456789.125,float('inf'),-float('inf'),float('nan'),5e-324,2.2250738585072014e-308])
    if r<0.8: return round(random.uniform(-1e6,1e6), random.randint(0,8))
    return random.randint(-10**6,10**6)/ (10**random.randint(0,20))
def rstr():
    out=[]
    for _ in range(random.randint(0,8)):
        r=random.random()
        if r<0.5: out.append(chr(random.randint(0x20,0x7e)))
        elif r<0.6: out.append(chr(random.randint(0,0x1f)))
        elif r<0.7: out.append(chr(random.randint(0xd800,0xdfff)))
        elif r<0.85: out.append(chr(random.randint(0x80,0xffff)))
        else: out.append(chr(random.randint(0x10000,0x10ffff)))
    return ''.join(out)
def rval(d=0):
    r=random.random()
    if d>3 or r<0.5:
        c=random.randint(0,6)
        return [None,True,False,random.randint(-10**30,10**30),rfloat(),rstr(),random.randint(-5,5)][c]
    if r<0.75: return [rval(d+1) for _ in range(random.randint(0,4))]
    return {rstr():rval(d+1) for _ in range(random.randint(0,4))}
salt=bytes(range(16)); key=bytes(range(32))
cases=[]
for i in range(3000):
    v=rval()
    text=json.dumps(v)
    v2=json.loads(text)
    canon=json.dumps(v2, sort_keys=True, separators=(',',':'))
    def enc(s):
        try: return s.encode('utf-8')
        except UnicodeEncodeError: return None
    plain=str(v2)
    ds = v2 if isinstance(v2,str) else json.dumps(v2, sort_keys=True)
    b=enc(ds)
    salted = hashlib.sha256(salt+b).hexdigest()[:16]+'...' if b is not None else None
    hm = hmac.new(key,b,'sha256').hexdigest()[:16]+'...' if b is not None else None
    cases.append({"input":text,"canon":canon,"plain":plain if enc(plain) is not None else None,"salted":salted,"hmac":hm})
    # same value as raw UTF-8 text (ensure_ascii=False) when possible
    raw=json.dumps(v, ensure_ascii=False)
    if enc(raw) is not None:
        cases.append({"input":raw,"canon":canon,"plain":plain if enc(plain) is not None else None,"salted":salted,"hmac":hm})
def mroot(leaves):
    if not leaves: return hashlib.sha256(b"empty_tree").hexdigest()
    level=leaves
    while len(level)>1:
        level=[hashlib.sha256(bytes.fromhex(level[i])+bytes.fromhex(level[i+1] if i+1<len(level) else level[i])).hexdigest() for i in range(0,len(level),2)]
    return level[0]
merkle=[]
for n in range(0,40):
    for _ in range(3):
        L=random.choice([32,32,1,5,64])
        leaves=[random.randbytes(L).hex() for _ in range(n)]
        if random.random()<0.3: leaves=[l.upper() for l in leaves]
        merkle.append({"leaves":leaves,"root":mroot(leaves)})
random.seed(1)
out={"_comment":"Differential vectors for lcm::compat::pyciaf, written by python-differential.py (next to this file) with CPython 3.11.7's json, hashlib and hmac, following the reference's rules (ciaf-reference.md sections 1.3, 2.2 and 4.1): canon = json.dumps(json.loads(input), sort_keys=True, separators=(',', ':')); plain = str(value); salted/hmac = create_commitment with salt bytes 00..0f / key bytes 00..1f (null where Python cannot encode the text as UTF-8); merkle roots by MerkleTree's rule. Random values: big ints, float bit patterns, NaN/Infinity, control characters, lone surrogates, astral characters, nested containers.",
     "cases":random.sample(cases,400),"merkle":merkle[::2]}
open('python-differential.json','w').write(json.dumps(out, indent=0))
