# Generates lunar_months_pyephem.txt: pip install ephem; python3 lunar_months_pyephem.py > lunar_months_pyephem.txt
# (then drop the lines before JDN 2415021 and add the header). Not run by the tests.
import ephem, math
TZ=7/24
def jd(d): return ephem.julian_date(d)
def local_day(j): return math.floor(j+0.5+TZ)
def lon_at(j):  # j = JD UT
    d = ephem.Date(j - 2415020.0)
    s = ephem.Sun(); s.compute(d, epoch=d)
    return math.degrees(ephem.Ecliptic(s, epoch=d).lon)
def sector(day): return math.floor(lon_at(day-0.5-TZ)/30)
nm=[]; d=ephem.Date('1898/10/25')
while d < ephem.Date('2102/03/01'):
    d=ephem.next_new_moon(d); nm.append(local_day(jd(d))); d=ephem.Date(d+1)
sec=[sector(x) for x in nm]
import bisect
def m11(y):
    s=local_day(jd(ephem.next_solstice(f'{y}/12/1')))
    return bisect.bisect_right(nm,s)-1
out=[]
a=m11(1898)
for y in range(1899,2102):
    b=m11(y); leap=None
    if b-a==13:
        for i in range(a+1,b):
            if sec[i]==sec[i+1]: leap=i; break
    num=11; ly=y-1
    for i in range(a,b):
        lp=False
        if i>a:
            if i==leap: lp=True
            else:
                num=num%12+1
                if num==1: ly=y
        out.append((nm[i],ly,num,lp))
    a=b
lo=2415021; hi=2488434  # 1900-01-01 .. 2100-12-31 JDN
for (s,ly,num,lp) in out:
    if lo - 31 <= s <= hi:
        print(s,ly,num,int(lp))
