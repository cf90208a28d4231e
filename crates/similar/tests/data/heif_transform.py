#!/usr/bin/env python3
"""Adds transform properties to the primary item of a HEIF file (for test fixtures).

    heif_transform.py IN.heic OUT.heic irot=1 imir=0

Each NAME=VALUE becomes a one-byte property box (`irot`: quarter turns anticlockwise;
`imir`: the mirror axis), appended to `ipco` and associated (essential) with the primary
item in `ipma`, in the order given; `iloc` offsets are moved by the growth of `meta`.
Only what the fixtures need: `meta` before `mdat`, no `idat` construction method.
"""
import sys,struct
def boxes(d):
    i=0;out=[]
    while i+8<=len(d):
        s,k=struct.unpack('>I4s',d[i:i+8]); out.append((k,d[i+8:i+s])); i+=s
    return out
def mk(k,b): return struct.pack('>I',len(b)+8)+k+b
def rd(d,at,n):
    return (int.from_bytes(d[at:at+n],'big') if n else 0), at+n
def patch_iloc(b,delta):
    v=b[0]; b=bytearray(b); at=4
    osz=b[at]>>4; lsz=b[at]&15; bsz=b[at+1]>>4; isz=(b[at+1]&15) if v in(1,2) else 0; at+=2
    n,at=rd(b,at,4 if v==2 else 2)
    for _ in range(n):
        _,at=rd(b,at,4 if v==2 else 2)
        cm=0
        if v in(1,2): cm,at=rd(b,at,2); cm&=15
        at+=2
        if bsz:
            bo=int.from_bytes(b[at:at+bsz],'big'); 
            if cm==0: b[at:at+bsz]=(bo+delta).to_bytes(bsz,'big')
            at+=bsz
        ec,at=rd(b,at,2)
        for _ in range(ec):
            if isz: at+=isz
            if not bsz and cm==0:
                o=int.from_bytes(b[at:at+osz],'big'); b[at:at+osz]=(o+delta).to_bytes(osz,'big')
            at+=osz; at+=lsz
    return bytes(b)
def add_props(src,dst,props):
    d=open(src,'rb').read(); top=boxes(d)
    out=b''
    for k,b in top:
        if k==b'meta':
            head=b[:4]; kids=boxes(b[4:])
            pitm=[x for kk,x in kids if kk==b'pitm'][0]; primary=struct.unpack('>H',pitm[4:6])[0]
            newkids=[]
            for kk,x in kids:
                if kk==b'iprp':
                    ik=boxes(x); nk=[]
                    nprops=None
                    for k3,y in ik:
                        if k3==b'ipco':
                            pc=boxes(y); nprops=len(pc)
                            y=y+b''.join(mk(pk,pb) for pk,pb in props)
                        nk.append((k3,y))
                    # ipma
                    nk2=[]
                    for k3,y in nk:
                        if k3==b'ipma':
                            ver=y[0]; flags=int.from_bytes(y[1:4],'big'); cnt=struct.unpack('>I',y[4:8])[0]
                            at=8; res=bytearray(y[:8])
                            for _ in range(cnt):
                                iid=struct.unpack('>H' if ver<1 else '>I',y[at:at+(2 if ver<1 else 4)])[0]
                                w=2 if ver<1 else 4
                                res+=y[at:at+w]; at+=w
                                na=y[at]; at+=1
                                asz=2 if flags&1 else 1
                                assoc=y[at:at+na*asz]; at+=na*asz
                                if iid==primary:
                                    extra=b''.join(((0x80 if asz==1 else 0x8000)|(nprops+1+j)).to_bytes(asz,'big') for j in range(len(props)))
                                    res+=bytes([na+len(props)])+assoc+extra
                                else:
                                    res+=bytes([na])+assoc
                            y=bytes(res)
                        nk2.append((k3,y))
                    x=b''.join(mk(a,c) for a,c in nk2)
                newkids.append((kk,x))
            newmeta=mk(b'meta',head+b''.join(mk(a,c) for a,c in newkids))
            delta=len(newmeta)-(len(b)+8)
            # patch iloc
            kids2=[]
            for kk,x in newkids:
                if kk==b'iloc': x=patch_iloc(x,delta)
                kids2.append((kk,x))
            out+=mk(b'meta',head+b''.join(mk(a,c) for a,c in kids2))
        else:
            out+=mk(k,b)
    open(dst,'wb').write(out)
if __name__=='__main__':
    src,dst=sys.argv[1],sys.argv[2]
    props=[]
    for p in sys.argv[3:]:
        k,v=p.split('=')
        props.append((k.encode(),bytes([int(v)])))
    add_props(src,dst,props)
