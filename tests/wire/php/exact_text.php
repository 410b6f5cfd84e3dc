<?php
// PHP's SoapClient writes a lead whose values hold every kind of character XML 1.0 carries,
// then reads them back through getLead, getMultipleLeads and getLeadActivity. Prints one
// JSON object whose values are hex-encoded bytes, so bytes are compared, not JSON's view.
$endpoint = getenv('LEADSYNC_ENDPOINT');
$userId = getenv('LEADSYNC_USER_ID');
$secretKey = getenv('LEADSYNC_ENCRYPTION_KEY');
$email = getenv('LEADSYNC_EMAIL');
$values = json_decode(getenv('LEADSYNC_VALUES'), true);
$ns = "http://www.marketo.com/mktows/";

function authHeader($ns, $userId, $secretKey) {
    $timeStamp = (new DateTime('now', new DateTimeZone("America/Los_Angeles")))->format(DATE_W3C);
    $attrs = new stdClass();
    $attrs->mktowsUserId = $userId;
    $attrs->requestSignature = hash_hmac('sha1', $timeStamp . $userId, $secretKey);
    $attrs->requestTimestamp = $timeStamp;
    return new SoapHeader($ns, 'AuthenticationHeader', $attrs);
}

function call($client, $operation, $params) {
    global $ns, $userId, $secretKey;
    return $client->__soapCall($operation, array($params), null, authHeader($ns, $userId, $secretKey));
}

function sync($client, $email, $values) {
    $attributes = array();
    foreach ($values as $name => $value) {
        $attributes[] = (object)array("attrName" => $name, "attrValue" => $value);
    }
    $record = new stdClass();
    $record->Email = $email;
    $record->leadAttributeList = (object)array("attribute" => $attributes);
    $params = new stdClass();
    $params->leadRecordList = (object)array("leadRecord" => array($record));
    $params->dedupEnabled = true;
    return call($client, 'syncMultipleLeads', $params)->result->syncStatusList->syncStatus[0]->status;
}

function values($lead) {
    $found = array();
    foreach ($lead->leadAttributeList->attribute as $attr) {
        $found[$attr->attrName] = bin2hex((string)$attr->attrValue);
    }
    return $found;
}

$client = new SoapClient($endpoint . "?WSDL", array(
    "location" => $endpoint,
    "connection_timeout" => 15,
    "features" => SOAP_SINGLE_ELEMENT_ARRAYS,
));
$out = array("statuses" => array(
    sync($client, $email, array_map(function ($v) { return "x"; }, $values)),
    sync($client, $email, $values),
));

$key = (object)array("keyType" => "EMAIL", "keyValue" => $email);
$result = call($client, 'getLead', (object)array("leadKey" => $key))->result;
$out["getLead"] = values($result->leadRecordList->leadRecord[0]);

$keys = (object)array("keyType" => "EMAIL", "keyValues" => (object)array("stringItem" => array($email)));
$params = new stdClass();
$params->leadSelector = new SoapVar($keys, SOAP_ENC_OBJECT, "LeadKeySelector", $ns);
$result = call($client, 'getMultipleLeads', $params)->result;
$out["getMultipleLeads"] = values($result->leadRecordList->leadRecord[0]);

$result = call($client, 'getLeadActivity', (object)array("leadKey" => $key))->leadActivityList;
$newValues = array();
foreach ($result->activityRecordList->activityRecord as $activity) {
    if ($activity->activityType != "Change Data Value") {
        continue;
    }
    foreach ($activity->activityAttributes->attribute as $attr) {
        if ($attr->attrName == "New Value") {
            $newValues[] = bin2hex((string)$attr->attrValue);
        }
    }
}
$out["newValues"] = $newValues;
echo json_encode($out), "\n";
