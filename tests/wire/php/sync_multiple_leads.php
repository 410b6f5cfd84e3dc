<?php
$debug = true;
$marketoSoapEndPoint = getenv('LEADSYNC_ENDPOINT'); // CHANGE ME
$marketoUserId = getenv('LEADSYNC_USER_ID'); // CHANGE ME
$marketoSecretKey = getenv('LEADSYNC_ENCRYPTION_KEY'); // CHANGE ME
$marketoNameSpace = "http://www.marketo.com/mktows/";
// Create Signature
$dtzObj = new DateTimeZone("America/Los_Angeles");
$dtObj = new DateTime('now', $dtzObj);
$timeStamp = $dtObj->format(DATE_W3C);
$encryptString = $timeStamp . $marketoUserId;
$signature = hash_hmac('sha1', $encryptString, $marketoSecretKey);
// Create SOAP Header
$attrs = new stdClass();
$attrs->mktowsUserId = $marketoUserId;
$attrs->requestSignature = $signature;
$attrs->requestTimestamp = $timeStamp;
$authHdr = new SoapHeader($marketoNameSpace, 'AuthenticationHeader', $attrs);
$options = array("connection_timeout" => 15, "location" => $marketoSoapEndPoint);
if ($debug) {
$options["trace"] = 1;
}
// Create Request
for ($i=1000; $i < 1002; ++$i)
{
$uid = $i;
$attrs = array();
$attr1 = new stdClass();
$attr1->attrName = "Company";
$attr1->attrValue = "Marketo$uid";
$attr2 = new stdClass();
$attr2->attrName = "Phone";
$attr2->attrValue = "650-555-$uid";
$attrs[] = $attr1;
$attrs[] = $attr2;
$attrList = new stdClass();
$attrList->attribute = $attrs;
$leadRec = new stdClass();
$leadRec->Email = 'em' . $uid . '@etestd.marketo.net';
$leadRec->leadAttributeList = $attrList;
$leads[] = $leadRec;
}
$leadRecordList = new stdClass();
$leadRecordList->leadRecord = $leads;
$params = new stdClass();
$params->leadRecordList = $leadRecordList;
$params->dedupEnabled = true;
$soapClient = new SoapClient($marketoSoapEndPoint ."?WSDL", $options);
try {
$leads = $soapClient->__soapCall('syncMultipleLeads', array($params), $options, $authHdr);
// print_r($leads);
}
catch(Exception $ex) {
var_dump($ex);
}
if ($debug) {
print "RAW request:\n" .$soapClient->__getLastRequest() ."\n";
print "RAW response:\n" .$soapClient->__getLastResponse() ."\n";
}
?>
